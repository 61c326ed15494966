// The tag controls. Basic mode: a row of colour chips per exclusive group ("random" first) and an
// off / random / on switch per other tag, each labelled with its rate under the prior. Expert
// mode: a -100..100 slider per tag (per colour in a group) with a "random" box per control.

import { t, tagLabel, tagShort } from "./i18n.js";
import { EXPERT_MAX, EXPERT_MIN } from "./schema.js";

const COLORS = {
  blonde: "#f2d16b", brown: "#8a5a33", black: "#26262b", blue: "#3f74e0", pink: "#f39bc4",
  purple: "#9a5bc4", green: "#43a35a", red: "#d8413f", silver: "#c3cad4", white: "#f8f8f6",
  orange: "#f0973a", aqua: "#3cc9cf", gray: "#8f9094", yellow: "#e9c630",
};

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

function legend(schema, group) {
  const children = [element("span", { text: t(`groups.${group.name}`) })];
  const pairs = schema.opposites.filter(([a]) => group.tags.includes(a));
  for (const [a, b] of pairs) {
    children.push(element("span", { class: "hint opposites", text: t("controls.opposites", { a: tagLabel(a), b: tagLabel(b) }) }));
  }
  return element("legend", {}, children);
}

function chip(group, value, label, color, title) {
  const input = element("input", { type: "radio", name: group, value, id: `${group}--${value}` });
  const dot = element("span", { class: value === "random" ? "swatch random" : "swatch" });
  if (color) dot.style.background = color;
  return element("label", { class: "chip", for: input.id, title }, [input, dot, element("span", { text: label })]);
}

function exclusiveGroup(schema, group) {
  const probs = schema.prior.groups[group.name];
  const chips = [chip(group.name, "random", t("controls.random"), null, t("controls.randomTitle"))];
  for (const tag of group.tags) {
    const word = tag.split(" ")[0];
    chips.push(chip(group.name, tag, tagShort(tag), COLORS[word],
      t("controls.rateTitle", { tag: tagLabel(tag), rate: pct(probs[tag]) })));
  }
  return element("fieldset", { class: "group", "data-group": group.name }, [
    legend(schema, group),
    element("div", { class: "chips" }, chips),
  ]);
}

function triState(schema, tag) {
  const name = `tag:${tag}`;
  const seg = element("div", { class: "segmented", role: "radiogroup", "aria-label": tagLabel(tag) });
  for (const value of ["off", "random", "on"]) {
    const id = `${name}--${value}`;
    const input = element("input", { type: "radio", name, value, id, "data-tag": tag });
    seg.append(input, element("label", { for: id, text: t(`controls.${value}Short`), title: `${tagLabel(tag)}: ${t(`controls.${value}`)}` }));
  }
  return element("div", { class: "tri", "data-tag": tag }, [
    element("span", { class: "tag-name", text: tagLabel(tag) }),
    element("span", { class: "rate", text: pct(schema.prior.tags[tag]), title: t("controls.rateHint") }),
    seg,
  ]);
}

function slider(tag, control) {
  const range = element("input", {
    type: "range", min: String(EXPERT_MIN), max: String(EXPERT_MAX), step: "1", value: "0",
    "data-tag": tag, "data-control": control, "aria-label": tagLabel(tag),
  });
  return element("div", { class: "slider", "data-tag": tag }, [
    element("span", { class: "tag-name", text: tagLabel(tag) }),
    range,
    element("output", { class: "value", "data-tag": tag, text: "0" }),
  ]);
}

function randomBox(control, word) {
  const input = element("input", { type: "checkbox", class: "random-box", "data-control": control, checked: "" });
  const text = word ? t("controls.random") : t("controls.randomShort");
  return element("label", { class: "check small random-label", title: `${t("controls.random")}: ${t("controls.randomTitle")}` }, [input, text]);
}

function expertGroup(schema, group) {
  const rows = [];
  if (group.exclusive) {
    rows.push(element("div", { class: "group-random" }, [randomBox(group.name, true)]));
    rows.push(element("div", { class: "sliders" }, group.tags.map((tag) => slider(tag, group.name))));
  } else {
    rows.push(element("div", { class: "sliders" }, group.tags.map((tag) => element("div", { class: "expert-tag" }, [
      slider(tag, tag), randomBox(tag, false),
    ]))));
  }
  return element("fieldset", { class: "group expert", "data-group": group.name }, [legend(schema, group), ...rows]);
}

/** Build the controls into `root` (expert sliders or basic switches); `onChange(key)` is
 * called with the control that changed. */
export function buildControls(root, schema, expert, onChange) {
  root.replaceChildren();
  root.classList.toggle("expert", expert);
  for (const group of schema.groups) {
    if (expert) root.append(expertGroup(schema, group));
    else if (group.exclusive) root.append(exclusiveGroup(schema, group));
    else {
      root.append(element("fieldset", { class: "group", "data-group": group.name }, [
        legend(schema, group),
        element("div", { class: "tris" }, group.tags.map((tag) => triState(schema, tag))),
      ]));
    }
  }
  root.oninput = root.onchange = (event) => {
    const input = event.target;
    if (input.type === "range") {
      input.nextElementSibling.textContent = input.value;
      const box = root.querySelector(`.random-box[data-control="${CSS.escape(input.dataset.control)}"]`);
      if (box) box.checked = false;
      if (event.type === "input") onChange(input.dataset.control);
    } else if (event.type === "change" && input.type === "checkbox") onChange(input.dataset.control);
    else if (event.type === "change" && input.type === "radio") onChange(input.dataset.tag ?? input.name);
  };
}

const isExpert = (root) => root.classList.contains("expert");

function controlName(schema, key) {
  return schema.exclusive.some((g) => g.name === key) ? key : `tag:${key}`;
}

/** Read the controls from the DOM; a basic switch with nothing checked (an expert value
 * shown in basic mode) keeps its value from `current`. */
export function readControls(root, schema, current = schema.defaultControls()) {
  const controls = { ...current };
  if (isExpert(root)) {
    const value = (tag) => Number(root.querySelector(`input[type=range][data-tag="${CSS.escape(tag)}"]`).value);
    for (const g of schema.exclusive) {
      const random = root.querySelector(`.random-box[data-control="${CSS.escape(g.name)}"]`).checked;
      controls[g.name] = random ? "random" : Object.fromEntries(g.tags.map((tag) => [tag, value(tag)]));
    }
    for (const tag of schema.independent) {
      const random = root.querySelector(`.random-box[data-control="${CSS.escape(tag)}"]`).checked;
      controls[tag] = random ? "random" : value(tag);
    }
    return schema.normalize(controls);
  }
  for (const key of Object.keys(controls)) {
    const checked = root.querySelector(`input[name="${CSS.escape(controlName(schema, key))}"]:checked`);
    if (checked) controls[key] = checked.value;
  }
  return controls;
}

function expertValues(schema, controls, face) {
  const values = {};
  for (const g of schema.exclusive) {
    const v = controls[g.name];
    for (const tag of g.tags) {
      if (typeof v === "object") values[tag] = v[tag];
      else if (v !== "random") values[tag] = v === tag ? EXPERT_MAX : EXPERT_MIN;
      else values[tag] = face ? schema.toValue(face[schema.index.get(tag)]) : 0;
    }
  }
  for (const tag of schema.independent) {
    const v = controls[tag];
    if (typeof v === "number") values[tag] = v;
    else if (v === "on" || v === "off") values[tag] = v === "on" ? EXPERT_MAX : EXPERT_MIN;
    else values[tag] = face ? schema.toValue(face[schema.index.get(tag)]) : 0;
  }
  return values;
}

/** Show `controls` in the DOM; in expert mode a random control's slider shows the value of
 * `face` (the current face's tag vector), greyed. */
export function writeControls(root, schema, controls, face = null) {
  if (isExpert(root)) {
    const values = expertValues(schema, controls, face);
    for (const [tag, v] of Object.entries(values)) {
      const range = root.querySelector(`input[type=range][data-tag="${CSS.escape(tag)}"]`);
      range.value = String(v);
      range.nextElementSibling.textContent = String(v);
    }
    for (const box of root.querySelectorAll(".random-box")) {
      box.checked = controls[box.dataset.control] === "random";
      box.closest(".expert-tag, fieldset").classList.toggle("is-random", box.checked);
    }
    return;
  }
  for (const input of root.querySelectorAll("input:checked")) input.checked = false;
  for (const [key, value] of Object.entries(controls)) {
    if (typeof value !== "string") continue; // an expert value: no switch position shows it
    const input = root.querySelector(`input[name="${CSS.escape(controlName(schema, key))}"][value="${CSS.escape(value)}"]`);
    if (input) input.checked = true;
  }
}
