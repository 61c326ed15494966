// The tag controls: a row of colour chips per exclusive group ("random" first) and an
// off / random / on switch per other tag, each labelled with its rate under the prior.

const COLORS = {
  blonde: "#f2d16b", brown: "#8a5a33", black: "#26262b", blue: "#3f74e0", pink: "#f39bc4",
  purple: "#9a5bc4", green: "#43a35a", red: "#d8413f", silver: "#c3cad4", white: "#f8f8f6",
  orange: "#f0973a", aqua: "#3cc9cf", gray: "#8f9094", yellow: "#e9c630",
};
const TITLES = { hair_color: "Hair color", eye_color: "Eye color", hair_style: "Hair style", other: "Other" };

const pct = (p) => `${Math.round(100 * p)}%`;

function element(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function chip(group, value, label, color, title) {
  const input = element("input", { type: "radio", name: group, value, id: `${group}--${value}` });
  const dot = element("span", { class: value === "random" ? "swatch random" : "swatch" });
  if (color) dot.style.background = color;
  return element("label", { class: "chip", for: input.id, title }, [input, dot, element("span", { text: label })]);
}

function exclusiveGroup(schema, group) {
  const probs = schema.prior.groups[group.name];
  const chips = [chip(group.name, "random", "random", null, "drawn from the training set's distribution")];
  for (const tag of group.tags) {
    const word = tag.split(" ")[0];
    chips.push(chip(group.name, tag, word, COLORS[word], `${tag}: ${pct(probs[tag])} of the training set`));
  }
  return element("fieldset", { class: "group", "data-group": group.name }, [
    element("legend", { text: TITLES[group.name] ?? group.name }),
    element("div", { class: "chips" }, chips),
  ]);
}

function triState(schema, tag) {
  const name = `tag:${tag}`;
  const seg = element("div", { class: "segmented", role: "radiogroup", "aria-label": tag });
  for (const value of ["off", "random", "on"]) {
    const id = `${name}--${value}`;
    const input = element("input", { type: "radio", name, value, id, "data-tag": tag });
    seg.append(input, element("label", { for: id, text: value === "random" ? "?" : value, title: `${tag}: ${value}` }));
  }
  return element("div", { class: "tri", "data-tag": tag }, [
    element("span", { class: "tag-name", text: tag }),
    element("span", { class: "rate", text: pct(schema.prior.tags[tag]), title: "share of the training set with this tag" }),
    seg,
  ]);
}

/** Build the controls into `root`; `onChange(key)` is called with the control that changed. */
export function buildControls(root, schema, onChange) {
  root.replaceChildren();
  for (const group of schema.groups) {
    if (group.exclusive) {
      root.append(exclusiveGroup(schema, group));
    } else {
      root.append(element("fieldset", { class: "group", "data-group": group.name }, [
        element("legend", { text: TITLES[group.name] ?? group.name }),
        element("div", { class: "tris" }, group.tags.map((t) => triState(schema, t))),
      ]));
    }
  }
  root.addEventListener("change", (event) => {
    const input = event.target;
    if (input.type !== "radio") return;
    onChange(input.dataset.tag ?? input.name);
  });
}

/** Read the controls from the DOM. */
export function readControls(root, schema) {
  const controls = schema.defaultControls();
  for (const key of Object.keys(controls)) {
    const name = schema.exclusive.some((g) => g.name === key) ? key : `tag:${key}`;
    const checked = root.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
    if (checked) controls[key] = checked.value;
  }
  return controls;
}

/** Show `controls` in the DOM. */
export function writeControls(root, schema, controls) {
  for (const [key, value] of Object.entries(controls)) {
    const name = schema.exclusive.some((g) => g.name === key) ? key : `tag:${key}`;
    const input = root.querySelector(`input[name="${CSS.escape(name)}"][value="${CSS.escape(value)}"]`);
    if (input) input.checked = true;
  }
}
