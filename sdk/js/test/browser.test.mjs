import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

// A small fake of the DOM pieces paylink.js touches, so its message
// handling can be tested without a browser (the Chromium test covers the
// real thing end to end).
function fakeWorld({ scriptSrc = "https://pay.example/sdk/1.0.0/paylink.js", origin = "https://shop.example" } = {}) {
  const listeners = new Map();
  const posted = [];
  const contentWindow = { postMessage: (msg, target) => posted.push({ msg, target }) };
  const container = {
    children: [],
    appendChild(el) { this.children.push(el); el.parentNode = this; },
    removeChild(el) { this.children = this.children.filter((c) => c !== el); el.parentNode = null; },
  };
  const document = {
    currentScript: { src: scriptSrc },
    querySelector: (sel) => (sel === "#pay" ? container : null),
    createElement: (tag) => ({ tag, style: {}, attrs: {}, setAttribute(k, v) { this.attrs[k] = v; }, contentWindow }),
  };
  const window = {
    document, location: { origin }, URL, console,
    addEventListener: (t, fn) => listeners.set(fn, t),
    removeEventListener: (t, fn) => listeners.delete(fn),
  };
  window.globalThis = window;
  vm.runInNewContext(readFileSync(new URL("../paylink.js", import.meta.url), "utf8"), window);
  const dispatch = (event) => { for (const [fn] of listeners) fn(event); };
  return { window, container, contentWindow, posted, listeners, dispatch };
}

const FORM = "pform_01m8000000000000000000000a";

test("mount creates the frame with the parent origin and resizes it", () => {
  const w = fakeWorld();
  const handle = w.window.Paylink.mount("#pay", { form: FORM });
  const frame = w.container.children[0];
  assert.equal(frame.tag, "iframe");
  assert.equal(frame.src, `https://pay.example/embed/forms/${FORM}?parent_origin=https%3A%2F%2Fshop.example`);
  w.dispatch({ origin: "https://pay.example", source: w.contentWindow, data: { source: "paylink", type: "resize", height: 512.4 } });
  assert.equal(frame.style.height, "513px");
  handle.unmount();
  assert.equal(w.container.children.length, 0);
  assert.equal(w.listeners.size, 0);
});

test("events from the form reach the callbacks; init goes to the exact origin", () => {
  const w = fakeWorld();
  const got = [];
  w.window.Paylink.mount("#pay", {
    form: FORM, appearance: { theme: "dark" },
    onReady: (i) => got.push(["ready", i.form]),
    onSuccess: (p) => got.push(["success", p.id]),
    onError: (e) => got.push(["error", e.code]),
  });
  const from = (data) => ({ origin: "https://pay.example", source: w.contentWindow, data: { source: "paylink", ...data } });
  w.dispatch(from({ type: "ready" }));
  w.dispatch(from({ type: "error", error: { code: "card_declined", message: "declined" } }));
  w.dispatch(from({ type: "success", payment: { id: "pay_1", status: "succeeded" } }));
  assert.deepEqual(got, [["ready", FORM], ["error", "card_declined"], ["success", "pay_1"]]);
  assert.deepEqual(JSON.parse(JSON.stringify(w.posted)), [{ msg: { source: "paylink", type: "init", appearance: { theme: "dark" } }, target: "https://pay.example" }]);
});

test("messages from another origin or another window are ignored", () => {
  const w = fakeWorld();
  const got = [];
  w.window.Paylink.mount("#pay", { form: FORM, onSuccess: (p) => got.push(p) });
  const forged = { source: "paylink", type: "success", payment: { id: "pay_forged" } };
  w.dispatch({ origin: "https://evil.example", source: w.contentWindow, data: forged });
  w.dispatch({ origin: "https://pay.example", source: {}, data: forged });
  w.dispatch({ origin: "https://pay.example", source: w.contentWindow, data: { ...forged, source: "other" } });
  w.dispatch({ origin: "https://pay.example", source: w.contentWindow, data: "success" });
  assert.deepEqual(got, []);
});

test("mount refuses a bad form id or element, and a throwing callback doesn't break it", () => {
  const w = fakeWorld();
  assert.throws(() => w.window.Paylink.mount("#pay", { form: "plink_1" }));
  assert.throws(() => w.window.Paylink.mount("#missing", { form: FORM }));
  const errors = [];
  w.window.console = { error: (e) => errors.push(e) };
  const origConsole = w.window.console;
  w.window.Paylink.mount("#pay", { form: FORM, onReady: () => { throw new Error("merchant bug"); } });
  w.dispatch({ origin: "https://pay.example", source: w.contentWindow, data: { source: "paylink", type: "ready" } });
  assert.equal(errors.length, 1);
  assert.equal(origConsole, w.window.console);
});

test("without a script src the baseURL option is required", () => {
  const w = fakeWorld({ scriptSrc: "" });
  assert.throws(() => w.window.Paylink.mount("#pay", { form: FORM }), /baseURL/);
  w.window.Paylink.mount("#pay", { form: FORM, baseURL: "https://other.example/ignored/path" });
  assert.match(w.container.children[0].src, /^https:\/\/other\.example\/embed\/forms\//);
});

test("without onSuccess the page goes to the form's success_url, and only to an http(s) one", () => {
  const w = fakeWorld();
  const went = [];
  w.window.location.assign = (u) => went.push(u);
  w.window.Paylink.mount("#pay", { form: FORM });
  const from = (data) => ({ origin: "https://pay.example", source: w.contentWindow, data: { source: "paylink", ...data } });
  w.dispatch(from({ type: "success", payment: { id: "pay_1" }, redirect_url: "javascript:alert(1)" }));
  w.dispatch(from({ type: "success", payment: { id: "pay_1" }, redirect_url: "https://shop.example/thanks" }));
  assert.deepEqual(went, ["https://shop.example/thanks"]);
  // A forged success from elsewhere moves nobody.
  w.dispatch({ origin: "https://evil.example", source: w.contentWindow, data: { source: "paylink", type: "success", redirect_url: "https://evil.example" } });
  assert.deepEqual(went, ["https://shop.example/thanks"]);

  const w2 = fakeWorld();
  const moved = [];
  w2.window.location.assign = (u) => moved.push(u);
  const paid = [];
  w2.window.Paylink.mount("#pay", { form: FORM, onSuccess: (p) => paid.push(p.id) });
  w2.dispatch({ origin: "https://pay.example", source: w2.contentWindow, data: { source: "paylink", type: "success", payment: { id: "pay_2" }, redirect_url: "https://shop.example/thanks" } });
  assert.deepEqual([paid, moved], [["pay_2"], []]);
});
