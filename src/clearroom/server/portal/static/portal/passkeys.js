// Passkeys (WebAuthn): the only script of the portal, needed because browsers offer WebAuthn to
// scripts alone. It turns the server's JSON options into the browser's call and the answer back
// into JSON; every check happens on the server.
"use strict";

function fromB64u(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
}

function toB64u(buffer) {
  const bytes = new Uint8Array(buffer);
  let raw = "";
  for (const b of bytes) raw += String.fromCharCode(b);
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function csrf() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "X-CSRFToken": csrf(), "Content-Type": "application/json" },
    body: body === undefined ? "" : JSON.stringify(body),
    credentials: "same-origin",
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.detail || "the centre refused (" + response.status + ")");
  return answer;
}

function report(element, message) {
  const out = document.getElementById(element.dataset.status);
  if (out) out.textContent = message;
}

async function registerPasskey(button) {
  try {
    const options = await post(button.dataset.options);
    options.challenge = fromB64u(options.challenge);
    options.user.id = fromB64u(options.user.id);
    for (const c of options.excludeCredentials || []) c.id = fromB64u(c.id);
    const made = await navigator.credentials.create({ publicKey: options });
    const name = document.getElementById(button.dataset.name).value;
    await post(button.dataset.register, {
      name: name,
      credential: {
        id: made.id,
        rawId: toB64u(made.rawId),
        type: made.type,
        response: {
          clientDataJSON: toB64u(made.response.clientDataJSON),
          attestationObject: toB64u(made.response.attestationObject),
          transports: made.response.getTransports ? made.response.getTransports() : [],
        },
      },
    });
    window.location.reload();
  } catch (error) {
    report(button, "No passkey was added: " + error.message);
  }
}

async function usePasskey(button) {
  try {
    const options = await post(button.dataset.options);
    options.challenge = fromB64u(options.challenge);
    for (const c of options.allowCredentials || []) c.id = fromB64u(c.id);
    const got = await navigator.credentials.get({ publicKey: options });
    const done = await post(button.dataset.verify, {
      id: got.id,
      rawId: toB64u(got.rawId),
      type: got.type,
      response: {
        clientDataJSON: toB64u(got.response.clientDataJSON),
        authenticatorData: toB64u(got.response.authenticatorData),
        signature: toB64u(got.response.signature),
        userHandle: got.response.userHandle ? toB64u(got.response.userHandle) : null,
      },
    });
    window.location.assign(done.next);
  } catch (error) {
    report(button, "Signing in with the passkey failed: " + error.message);
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-passkey]");
  if (!button) return;
  event.preventDefault();
  if (button.dataset.passkey === "register") registerPasskey(button);
  else usePasskey(button);
});
