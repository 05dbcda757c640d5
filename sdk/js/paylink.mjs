// ES module entry of the Paylink embed SDK: `import { mount } from ".../paylink.mjs"`.
// It loads the classic script (which defines globalThis.Paylink) and, since a
// module has no document.currentScript, defaults baseURL to this module's origin.
import "./paylink.js";

const Paylink = globalThis.Paylink;
const moduleOrigin = new URL(import.meta.url).origin;

export const version = Paylink.version;

export function mount(element, options) {
  const base = /^https?:$/.test(new URL(import.meta.url).protocol) ? { baseURL: moduleOrigin } : {};
  return Paylink.mount(element, Object.assign(base, options));
}

export default { version, mount };
