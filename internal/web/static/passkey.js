// Passkeys (WebAuthn) on TNO's pages. Each <form data-passkey> carries
// the options the server prepared for navigator.credentials.get or
// create (data-options, JSON with base64url binary fields). In a browser
// that can use passkeys, the form is shown; its button asks the browser,
// puts the answer (PublicKeyCredential JSON) in the hidden field
// "credential" and posts the form, which goes on like any other. With
// data-conditional, the browser is also asked at once, in the background,
// to offer the person's passkeys in the identifier field's autofill
// (conditional mediation). Without JavaScript, or without WebAuthn, the
// forms stay hidden and the page works without them. Served from TNO's
// origin: the Content-Security-Policy allows no other script, and no
// request from this one (the answer travels in the form).
"use strict";
(function () {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function toBytes(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      out[i] = raw.charCodeAt(i);
    }
    return out.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var s = "";
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeOptions(publicKey) {
    var o = Object.assign({}, publicKey);
    o.challenge = toBytes(o.challenge);
    if (o.user) {
      o.user = Object.assign({}, o.user, { id: toBytes(o.user.id) });
    }
    ["allowCredentials", "excludeCredentials"].forEach(function (k) {
      if (o[k]) {
        o[k] = o[k].map(function (c) {
          return Object.assign({}, c, { id: toBytes(c.id) });
        });
      }
    });
    return o;
  }

  function encodeCredential(c) {
    if (typeof c.toJSON === "function") {
      return c.toJSON();
    }
    var r = c.response;
    var out = { id: c.id, rawId: toB64url(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(), response: {} };
    out.response.clientDataJSON = toB64url(r.clientDataJSON);
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) {
        out.response.transports = r.getTransports();
      }
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) {
        out.response.userHandle = toB64url(r.userHandle);
      }
    }
    if (c.authenticatorAttachment) {
      out.authenticatorAttachment = c.authenticatorAttachment;
    }
    return out;
  }

  function setup(form) {
    var options;
    try {
      options = JSON.parse(form.getAttribute("data-options"));
    } catch (e) {
      return;
    }
    var mode = form.getAttribute("data-passkey");
    var button = form.querySelector("button");
    var error = form.querySelector(".passkey-error");
    var field = form.querySelector("input[name=credential]");
    var pending = null;

    function ask(conditional) {
      var publicKey = decodeOptions(options.publicKey);
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      var request = { publicKey: publicKey, signal: pending.signal };
      var p;
      if (mode === "create") {
        p = navigator.credentials.create(request);
      } else {
        if (conditional) {
          request.mediation = "conditional";
        }
        p = navigator.credentials.get(request);
      }
      return p.then(function (c) {
        if (!c) {
          return;
        }
        field.value = JSON.stringify(encodeCredential(c));
        form.submit();
      });
    }

    form.hidden = false;
    if (button) {
      button.addEventListener("click", function () {
        if (error) {
          error.hidden = true;
        }
        ask(false).catch(function (e) {
          if (e && e.name === "AbortError") {
            return;
          }
          if (error) {
            error.hidden = false;
          }
        });
      });
    }
    if (form.hasAttribute("data-conditional") && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (ok) {
          ask(true).catch(function () {});
        }
      });
    }
  }

  var forms = document.querySelectorAll("form[data-passkey]");
  for (var i = 0; i < forms.length; i++) {
    setup(forms[i]);
  }
})();
