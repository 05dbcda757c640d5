/*!
 * Paylink embed SDK 1.0.0: mounts a Paylink payment form in an iframe and
 * reports its events by postMessage. Zero dependencies. Usable as a classic
 * <script> (window.Paylink) or through paylink.mjs as an ES module.
 */
(function (global) {
  "use strict";

  var VERSION = "1.0.0";
  var SOURCE = "paylink";

  // The origin this script was served from is the Paylink server's: the
  // form's frame is loaded from it and only its messages are believed.
  var scriptOrigin = null;
  if (global.document && global.document.currentScript && global.document.currentScript.src) {
    scriptOrigin = new URL(global.document.currentScript.src).origin;
  }

  function resolve(element) {
    if (typeof element === "string") {
      var found = global.document.querySelector(element);
      if (!found) {
        throw new Error("Paylink.mount: no element matches " + element);
      }
      return found;
    }
    if (!element || typeof element.appendChild !== "function") {
      throw new Error("Paylink.mount: element must be a DOM element or a selector");
    }
    return element;
  }

  function call(fn, arg) {
    if (typeof fn === "function") {
      try {
        fn(arg);
      } catch (e) {
        // A merchant callback that throws must not break the form.
        if (global.console) global.console.error(e);
      }
    }
  }

  /**
   * Mount the payment form `options.form` (a "pform_…" id) into element.
   * Returns a handle whose unmount() removes the frame and its listener.
   */
  function mount(element, options) {
    options = options || {};
    if (typeof options.form !== "string" || !/^pform_[0-9a-z]{26}$/.test(options.form)) {
      throw new Error("Paylink.mount: options.form must be a payment form id (pform_…)");
    }
    var base = options.baseURL ? new URL(options.baseURL).origin : scriptOrigin;
    if (!base) {
      throw new Error("Paylink.mount: options.baseURL is required when the SDK is not loaded from a Paylink server");
    }
    var container = resolve(element);
    var parentOrigin = global.location.origin;

    var frame = global.document.createElement("iframe");
    frame.src = base + "/embed/forms/" + encodeURIComponent(options.form) +
      "?parent_origin=" + encodeURIComponent(parentOrigin);
    frame.title = options.title || "Payment form";
    frame.setAttribute("allow", "payment");
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.height = "420px";
    frame.style.display = "block";
    frame.style.colorScheme = "normal";

    function post(message) {
      if (frame.contentWindow) {
        frame.contentWindow.postMessage(message, base);
      }
    }

    function onMessage(event) {
      // Only the form's own frame, from the Paylink origin, is listened to.
      if (event.origin !== base || event.source !== frame.contentWindow) return;
      var msg = event.data;
      if (!msg || msg.source !== SOURCE || typeof msg.type !== "string") return;
      switch (msg.type) {
        case "ready":
          post({ source: SOURCE, type: "init", appearance: options.appearance || {} });
          call(options.onReady, { form: options.form });
          break;
        case "resize":
          if (typeof msg.height === "number" && msg.height > 0 && msg.height < 10000) {
            frame.style.height = Math.ceil(msg.height) + "px";
          }
          break;
        case "success":
          if (typeof options.onSuccess === "function") {
            call(options.onSuccess, msg.payment);
          } else if (typeof msg.redirect_url === "string" && /^https?:\/\//.test(msg.redirect_url)) {
            // No handler: go where the form's success_url says.
            global.location.assign(msg.redirect_url);
          }
          break;
        case "error":
          call(options.onError, msg.error);
          break;
      }
    }

    global.addEventListener("message", onMessage);
    container.appendChild(frame);

    return {
      frame: frame,
      unmount: function () {
        global.removeEventListener("message", onMessage);
        if (frame.parentNode) frame.parentNode.removeChild(frame);
      }
    };
  }

  global.Paylink = { version: VERSION, mount: mount };
})(typeof globalThis !== "undefined" ? globalThis : window);
