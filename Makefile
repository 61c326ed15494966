# anime-gan: every pipeline stage is one target. `make help` lists them.
# Set-up is part of `make demo` and `make test`: they create/refresh the virtual environment
# $(VENV) and install the project into it. With a virtual environment active (VIRTUAL_ENV set,
# e.g. one holding your CUDA torch), that one is used instead and its torch is kept.

VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),.venv)
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
TORCH_CPU ?= torch==2.13.0
STAMP := $(VENV)/.anime-gan-installed
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install demo test lint demo-data import crawl detect review tag build train evaluate generate judge export serve report sweep bench sr clean web

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-11s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_CPU)"
	$(PY) -m pip install -q -e ".[dev]"
	@touch $@

install: $(STAMP) ## create/refresh the virtual environment and install the project (quick when nothing changed)

demo: $(STAMP) ## the main job on the embedded demo data: render -> train -> samples, metrics, ONNX export
	$(BIN)/anime-gan render out=data/demo
	$(BIN)/anime-gan train experiment=demo hydra.run.dir=runs/demo ckpt_path=last $(ARGS)
	$(BIN)/anime-gan evaluate hydra.run.dir=runs/demo/evaluate
	$(BIN)/anime-gan export

test: $(STAMP) ## run the test suite (CPU, no network)
	$(BIN)/pytest $(ARGS)

lint: $(STAMP) ## ruff: lint rules and formatting (ruff check --fix . && ruff format . mend most)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

demo-data: $(STAMP) ## render the procedural demo dataset into data/demo
	$(BIN)/anime-gan render out=data/demo $(ARGS)

import: $(STAMP) ## import a folder/zip of images as a dataset: make import ARGS="source=... out=..."
	$(BIN)/anime-gan import $(ARGS)

crawl: $(STAMP) ## download character images (needs the internet)
	$(BIN)/anime-gan crawl $(ARGS)

detect: $(STAMP) ## crop faces from character images
	$(BIN)/anime-gan detect $(ARGS)

review: $(STAMP) ## contact sheets and reject list of face crops
	$(BIN)/anime-gan review $(ARGS)

tag: $(STAMP) ## estimate the 34 tags with Illustration2Vec
	$(BIN)/anime-gan tag $(ARGS)

build: $(STAMP) ## pack crops + tags into the training set
	$(BIN)/anime-gan build $(ARGS)

.PHONY: dataset
dataset: build ## alias of build: make dataset ARGS="params.resolution=64"

train: $(STAMP) ## train the model: make train ARGS="experiment=paper"
	$(BIN)/anime-gan train $(ARGS)

sweep: $(STAMP) ## Hydra multirun over lambda_adv and lambda_gp (see conf/experiment/sweep.yaml)
	$(BIN)/anime-gan train -m experiment=sweep $(ARGS)

evaluate: $(STAMP) ## FID / SWD and per-label precision of a checkpoint
	$(BIN)/anime-gan evaluate $(ARGS)

generate: $(STAMP) ## generate faces with chosen tags
	$(BIN)/anime-gan generate $(ARGS)

judge: $(STAMP) ## train the per-label precision judge: make judge ARGS="data=demo out=runs/judge/demo"
	$(BIN)/anime-gan judge-train $(ARGS)

report: $(STAMP) ## figures and tables of a checkpoint into one folder (default: the demo run)
	$(BIN)/anime-gan report ckpt=runs/demo/checkpoints/last.ckpt data=demo out=runs/demo/report $(ARGS)

export: $(STAMP) ## export the generator to ONNX for the web page
	$(BIN)/anime-gan export $(ARGS)

web: ## build the page into web/dist: npm ci (when web/node_modules is missing or older than the lockfile) + copy the runtime
	cd web && { test node_modules/.package-lock.json -nt package-lock.json || npm ci --no-audit --no-fund; } && node build.mjs

serve: $(STAMP) web ## serve the web page and every export in data/export on http://127.0.0.1:8000
	$(BIN)/anime-gan serve $(ARGS)

bench: $(STAMP) ## speed, FLOPs and sizes -> runs/bench/bench.json: make bench ARGS="mode=full"
	$(BIN)/anime-gan bench $(ARGS)

sr: $(STAMP) ## 2x upscaler on 64 px demo faces + adv_weight sweep -> runs/sr/sweep (table, figure, sheet)
	$(BIN)/anime-gan render n=2000 resolution=64 out=data/demo64
	$(BIN)/anime-gan sr-train experiment=sr_demo hydra.run.dir=runs/sr/pixel $(ARGS)
	$(BIN)/anime-gan sr-train -m experiment=sr_demo sr.adv_weight=0,1e-3,1e-2,1e-1 sr.init_from=runs/sr/pixel/checkpoints/last.ckpt hydra.sweep.dir=runs/sr/sweep $(ARGS)

.PHONY: notebooks notebooks-clean
notebooks: $(STAMP) ## open notebooks/ in JupyterLab (installs it once): make demo first
	@$(PY) -c "import jupyterlab" 2>/dev/null || $(PY) -m pip install -q -e ".[notebooks]"
	$(BIN)/jupyter lab notebooks

notebooks-clean: $(STAMP) ## strip outputs and widget state from notebooks/*.ipynb before a commit
	$(PY) notebooks/strip_outputs.py

clean: ## remove run outputs (keeps data/ and the environment)
	rm -rf runs outputs multirun wandb lightning_logs
