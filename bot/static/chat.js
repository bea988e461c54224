// Minimal chat box: POSTs to the Rasa REST channel and renders replies as plain text.
(function () {
  "use strict";

  var config = window.ASSISTENTE_CONFIG || {};
  var rasaPort = config.rasaPort || 5005;
  var webhookUrl = window.location.protocol + "//" + window.location.hostname + ":" +
    rasaPort + "/webhooks/rest/webhook";

  var messages = document.getElementById("mensagens");
  var form = document.getElementById("formulario");
  var input = document.getElementById("entrada");
  var status = document.getElementById("estado");

  function senderId() {
    var key = "assistente-serpro-sender";
    var id = window.sessionStorage.getItem(key);
    if (!id) {
      id = "web-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
      window.sessionStorage.setItem(key, id);
    }
    return id;
  }

  function addMessage(text, who) {
    var bubble = document.createElement("div");
    bubble.className = "mensagem " + who;
    bubble.textContent = text; // never innerHTML: replies are untrusted text
    messages.appendChild(bubble);
    messages.scrollTop = messages.scrollHeight;
  }

  function addButtons(buttons) {
    var row = document.createElement("div");
    row.className = "botoes";
    buttons.forEach(function (button) {
      var element = document.createElement("button");
      element.type = "button";
      element.textContent = button.title;
      element.addEventListener("click", function () {
        send(button.payload, button.title);
      });
      row.appendChild(element);
    });
    messages.appendChild(row);
  }

  function render(replies) {
    replies.forEach(function (reply) {
      if (reply.text) { addMessage(reply.text, "bot"); }
      if (Array.isArray(reply.buttons) && reply.buttons.length) { addButtons(reply.buttons); }
    });
  }

  function send(message, shownText) {
    addMessage(shownText || message, "usuario");
    status.textContent = "";
    return fetch(webhookUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: senderId(), message: message })
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(render).catch(function () {
      status.textContent = "Não foi possível falar com o assistente agora. " +
        "Tente de novo ou ligue para 0800 728 2323.";
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text);
  });
}());
