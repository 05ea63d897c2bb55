// Passkey (WebAuthn) ceremonies for the sign-in and account pages. The button carries the
// URLs and the CSRF token; the server keeps the challenge. Everything else works without JS.
"use strict";
(function () {
  const button = document.getElementById("passkey");
  const status = document.getElementById("passkey-statut");
  if (!button || !window.PublicKeyCredential) {
    if (status) status.textContent = "Ce navigateur ne prend pas en charge les clés d'accès.";
    if (button) button.disabled = true;
    return;
  }
  const b64urlToBytes = (s) => {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=");
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  };
  const bytesToB64url = (buf) =>
    btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const post = (url, body) =>
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": button.dataset.csrf },
      body: body === undefined ? "{}" : JSON.stringify(body),
    });
  const ids = (list) => (list || []).map((c) => ({ ...c, id: b64urlToBytes(c.id) }));

  async function run() {
    status.textContent = "Suivez les instructions de votre navigateur…";
    const optionsResponse = await post(button.dataset.options);
    if (!optionsResponse.ok) throw new Error("options");
    const options = await optionsResponse.json();
    options.challenge = b64urlToBytes(options.challenge);
    let credential;
    if (button.dataset.mode === "register") {
      options.user.id = b64urlToBytes(options.user.id);
      options.excludeCredentials = ids(options.excludeCredentials);
      credential = await navigator.credentials.create({ publicKey: options });
    } else {
      options.allowCredentials = ids(options.allowCredentials);
      credential = await navigator.credentials.get({ publicKey: options });
    }
    const r = credential.response;
    const response = { clientDataJSON: bytesToB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = bytesToB64url(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = bytesToB64url(r.authenticatorData);
      response.signature = bytesToB64url(r.signature);
      if (r.userHandle) response.userHandle = bytesToB64url(r.userHandle);
    }
    const finish = await post(button.dataset.finish, {
      id: credential.id, rawId: bytesToB64url(credential.rawId), type: credential.type, response,
      clientExtensionResults: credential.getClientExtensionResults(),
    });
    const body = await finish.json();
    if (!finish.ok) throw new Error(body.error || "refus");
    window.location.assign(body.next);
  }

  button.addEventListener("click", () => {
    run().catch(() => {
      status.textContent = "La clé d'accès n'a pas pu être utilisée. Réessayez ou utilisez un code.";
    });
  });
})();
