// Translations. Every string the page shows lives in locales/<code>.json; English fills any key a
// translation lacks. The language is ?lang=, else the visitor's earlier choice, else the first of
// navigator.languages that the page speaks, else English.
//
// A string may hold {name} placeholders, and a plural string is an object keyed by
// Intl.PluralRules categories ({"one": "...", "other": "..."}) chosen by the variable n.

export const LANGUAGES = { en: "English", ja: "日本語" };
const STORAGE_KEY = "anime-gan-language";

let lang = "en";
let strings = {};
let english = {};

/** A message to translate later: thrown by code that must not know the page's language. */
export class LocalizedError extends Error {
  constructor(key, vars = {}) {
    super(key);
    this.key = key;
    this.vars = vars;
  }
}

/** The language to use, from the query, the stored choice and the browser's list. */
export function pickLanguage(query, stored, browserLanguages) {
  for (const code of [query, stored, ...(browserLanguages ?? [])]) {
    const base = String(code ?? "").toLowerCase().split("-")[0];
    if (base in LANGUAGES) return base;
  }
  return "en";
}

async function fetchStrings(code) {
  const response = await fetch(`locales/${code}.json`);
  if (!response.ok) throw new Error(`locales/${code}.json: HTTP ${response.status}`);
  return response.json();
}

/** Load `code` (and English behind it) and make it the page's language. */
export async function setLanguage(code, remember = false) {
  if (!(code in LANGUAGES)) code = "en";
  if (!Object.keys(english).length) english = await fetchStrings("en");
  strings = code === "en" ? english : await fetchStrings(code);
  lang = code;
  document.documentElement.lang = code;
  if (remember) {
    try { localStorage.setItem(STORAGE_KEY, code); } catch { /* storage may be off */ }
  }
}

export function storedLanguage() {
  try { return localStorage.getItem(STORAGE_KEY); } catch { return null; }
}

export function currentLanguage() {
  return lang;
}

function lookup(table, key) {
  return key.split(".").reduce((node, part) => (node == null ? undefined : node[part]), table);
}

function format(value) {
  return typeof value === "number" ? value.toLocaleString(lang, { maximumFractionDigits: 2 }) : String(value);
}

/** The string for `key` in the page's language, with `vars` filled in. */
export function t(key, vars = {}) {
  let text = lookup(strings, key) ?? lookup(english, key) ?? key;
  if (typeof text === "object") text = text[new Intl.PluralRules(lang).select(vars.n ?? 0)] ?? text.other;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? format(vars[name]) : match));
}

/** A tag's name as shown (the schema name stays the identifier in files and links). */
export function tagLabel(tag) {
  return lookup(strings, "tags")?.[tag] ?? tag;
}

/** A colour chip's label: the translation's "chips" entry, else the tag's first word ("blonde"). */
export function tagShort(tag) {
  return lookup(strings, "chips")?.[tag] ?? tag.split(" ")[0];
}

/** The text of an error: translated when it is a LocalizedError. */
export function errorText(error) {
  return error instanceof LocalizedError ? t(error.key, error.vars) : String(error?.message ?? error);
}

/** Fill every element marked data-i18n (text), data-i18n-title and data-i18n-aria. */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  for (const node of root.querySelectorAll("[data-i18n-aria]")) node.setAttribute("aria-label", t(node.dataset.i18nAria));
}
