// Assistente Serpro chat widget. No build step, no dependencies.
//
// Talks only to its own server: POST /api/mensagem {sender, message, token} -> {replies: [{text, buttons}]}
// or {error: {code, message}}. Every text (the user's and the assistant's) is put in the page with
// textContent; links are <a> elements built here. The conversation lives in sessionStorage, so it survives
// a reload of the tab and disappears with it. A CPF the user types is shown (and kept in the tab) masked as in
// the lists, xxx.456.789-xx, also when an answer repeats it. "Apagar esta conversa" erases the conversation on
// the server (POST /api/apagar {sender}) after a confirmation, then here.
(function () {
  "use strict";

  var STORAGE_KEY = "assistente-serpro-conversa";
  var MAX_ITEMS = 200;
  var REQUEST_TIMEOUT_MS = 90000; // the server gives up on the assistant first (60 s)
  var GREETING = "/cumprimentar";
  var NO_REPLY = "Não consegui falar com o assistente agora. Tente de novo em instantes ou fale com a " +
    "Central de Serviços Serpro, que atende 24x7: telefone 0800 728 2323 ou e-mail css.serpro@serpro.gov.br.";
  var SIGNED_OUT = "Sem identificação: tiro dúvidas sobre a CSS; para acionamentos e contatos, entre na Área do Cliente.";

  var launcher = document.getElementById("abrir-chat");
  var launcherText = document.getElementById("abrir-chat-texto");
  var panel = document.getElementById("painel-chat");
  var log = document.getElementById("mensagens");
  var typing = document.getElementById("digitando");
  var form = document.getElementById("formulario");
  var input = document.getElementById("entrada");
  var sendButton = document.getElementById("enviar");
  var closeButton = document.getElementById("fechar-chat");
  var restartButton = document.getElementById("nova-conversa");
  var who = document.getElementById("quem");
  var signInBox = document.getElementById("identificacao");
  var personaSelect = document.getElementById("persona");
  var eraseButton = document.getElementById("apagar-conversa");
  var eraseConfirm = document.getElementById("confirmar-apagar");
  var eraseYes = document.getElementById("confirmar-apagar-sim");
  var eraseNo = document.getElementById("confirmar-apagar-nao");
  var eraseStatus = document.getElementById("situacao-apagar");
  var NOT_ERASED = "Não foi possível apagar a conversa agora. Tente de novo em instantes.";

  var busy = false;
  var state = load();

  // ------------------------------------------------------------------ state

  function newSender() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "web-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function fresh(identity) {
    return {
      sender: newSender(),
      persona: identity ? identity.persona : "",
      name: identity ? identity.name : "",
      token: identity ? identity.token : "",
      open: state ? state.open : false,
      items: []
    };
  }

  function load() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null");
      if (saved && typeof saved.sender === "string" && Array.isArray(saved.items)) {
        return saved;
      }
    } catch (ignored) { /* unreadable: start over */ }
    return fresh(null);
  }

  function save() {
    if (state.items.length > MAX_ITEMS) {
      state.items = state.items.slice(-MAX_ITEMS);
    }
    try {
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (ignored) { /* storage full or off: the conversation still works, it just won't survive a reload */ }
  }

  // ------------------------------------------------------------------ text to DOM, never HTML

  // URLs, e-mail addresses, bare *.br host names and the 0800 number become links; ticket numbers are kept
  // on one line.
  var LINKS = /(https?:\/\/[^\s<>"']+)|([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})|((?:[A-Za-z0-9-]+\.)+(?:gov\.br|com\.br|org\.br)(?:\/[^\s<>"']*)?)|(0800[ \u00a0]?728[ \u00a0]?2323)|(SS-\d{4}-\d{6})/g;
  var TRAILING = /[.,;:!?)\]}'"]+$/;

  function link(href, text, external) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    if (external) {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
    return a;
  }

  function appendText(parent, text) {
    var last = 0;
    var match;
    LINKS.lastIndex = 0;
    while ((match = LINKS.exec(text)) !== null) {
      var found = match[0];
      var tail = (match[1] || match[3]) ? (found.match(TRAILING) || [""])[0] : "";
      var core = found.slice(0, found.length - tail.length);
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1]) {
        parent.appendChild(link(core, core, true));
      } else if (match[2]) {
        parent.appendChild(link("mailto:" + core, core, false));
      } else if (match[3]) {
        parent.appendChild(link("https://" + core, core, true));
      } else if (match[4]) {
        parent.appendChild(link("tel:" + core.replace(/\D/g, ""), core, false));
      } else {
        var number = document.createElement("span");
        number.className = "numero";
        number.textContent = core;
        parent.appendChild(number);
      }
      if (tail) { parent.appendChild(document.createTextNode(tail)); }
      last = match.index + found.length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // ------------------------------------------------------------------ personal data: CPF masked as in the lists

  var CPF = /(\d{3})\.?(\d{3})\.?(\d{3})-?(\d{2})/g;
  var typedCpfs = {}; // digits of the CPFs typed on this page (memory only): answers repeating them are masked

  function validCpf(digits) {
    if (/^(\d)\1{10}$/.test(digits)) { return false; }
    for (var size = 9; size < 11; size++) {
      var sum = 0;
      for (var i = 0; i < size; i++) { sum += Number(digits[i]) * (size + 1 - i); }
      if ((sum * 10) % 11 % 10 !== Number(digits[size])) { return false; }
    }
    return true;
  }

  // `mine`: text the user typed (every valid CPF is masked); otherwise only the CPFs the user typed are.
  function maskCpfs(text, mine) {
    return text.replace(CPF, function (found, a, b, c, d, offset) {
      var before = text.charAt(offset - 1);
      var after = text.charAt(offset + found.length);
      if (/[\d.\-\/]/.test(before) || /[\d.\-\/]/.test(after)) { return found; } // part of a longer number
      var digits = a + b + c + d;
      if (mine ? !validCpf(digits) : !typedCpfs[digits]) { return found; }
      if (mine) { typedCpfs[digits] = true; }
      return "xxx." + b + "." + c + "-xx";
    });
  }

  // ------------------------------------------------------------------ rendering

  var groups = []; // index of an item -> its button group element

  function renderItem(item, index) {
    var bubble = document.createElement("div");
    bubble.className = "mensagem " + item.kind;
    var speaker = document.createElement("span");
    speaker.className = "oculto";
    speaker.textContent = item.kind === "usuario" ? "Você: " : "Assistente: ";
    bubble.appendChild(speaker);
    var text = document.createElement("span");
    text.className = "texto";
    appendText(text, item.text || "");
    bubble.appendChild(text);
    log.appendChild(bubble);

    if (item.buttons && item.buttons.length) {
      var group = document.createElement("div");
      group.className = "botoes";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Opções de resposta");
      item.buttons.forEach(function (button, position) {
        var element = document.createElement("button");
        element.type = "button";
        element.textContent = button.title;
        element.addEventListener("click", function () { choose(index, position); });
        group.appendChild(element);
      });
      log.appendChild(group);
      groups[index] = group;
      paintButtons(index);
    }
  }

  // Updates a group in place (re-rendering the log would make screen readers read it all again).
  function paintButtons(index) {
    var item = state.items[index];
    var group = groups[index];
    if (!group) { return; }
    Array.prototype.forEach.call(group.children, function (element, position) {
      element.disabled = !!item.used;
      var chosen = Boolean(item.used) && item.chosen === position; // toggle(x, undefined) would flip it
      element.classList.toggle("escolhido", chosen);
      if (chosen) { element.setAttribute("aria-pressed", "true"); } else { element.removeAttribute("aria-pressed"); }
    });
  }

  function renderAll() {
    while (log.firstChild) { log.removeChild(log.firstChild); }
    groups = [];
    state.items.forEach(renderItem);
    scrollDown();
    who.textContent = state.token ? "Identificado como " + state.name + " (Área do Cliente)" : SIGNED_OUT;
    if (personaSelect) { personaSelect.value = state.persona || ""; }
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function add(item) {
    item.text = maskCpfs(item.text || "", item.kind === "usuario");
    state.items.push(item);
    save();
    renderItem(item, state.items.length - 1);
    scrollDown();
  }

  function retireButtons() {
    // Old choices must not send stale answers: once the user says anything, earlier buttons are spent.
    state.items.forEach(function (item, index) {
      if (item.buttons && item.buttons.length && !item.used) {
        item.used = true;
        paintButtons(index);
      }
    });
  }

  function setBusy(value) {
    busy = value;
    sendButton.disabled = value;
    typing.textContent = value ? "Assistente Serpro está digitando…" : "";
    typing.classList.toggle("ativo", value);
    if (value) { scrollDown(); }
  }

  // ------------------------------------------------------------------ talking

  function choose(index, position) {
    if (busy) { return; }
    var item = state.items[index];
    if (!item || item.used) { return; }
    var button = item.buttons[position];
    item.chosen = position;
    retireButtons();
    save();
    input.focus(); // the clicked button is now disabled: keep the keyboard in the conversation
    if (button.retry) {
      send(button.payload, null, true); // the user's bubble is already there
    } else {
      send(button.payload, button.title);
    }
  }

  // `shown`: what the user's bubble says (a button's title); `hidden`: no bubble (greeting, retry).
  function send(message, shown, hidden) {
    if (busy) { return; }
    retireButtons();
    if (!hidden) {
      add({ kind: "usuario", text: shown || message });
    }
    state.pending = true;
    save();
    setBusy(true);
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var body = { sender: state.sender, message: message };
    if (state.token) { body.token = state.token; }
    var sentFor = state.sender;

    fetch("/api/mensagem", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, data: data || {} };
      });
    }).then(function (result) {
      if (sentFor !== state.sender) { return; } // the user started another conversation meanwhile
      var replies = result.ok && Array.isArray(result.data.replies) ? result.data.replies : [];
      if (!replies.length) {
        var message = result.data.error && typeof result.data.error.message === "string"
          ? result.data.error.message : NO_REPLY;
        failed(message, body.message);
        return;
      }
      replies.forEach(function (reply) {
        add({
          kind: "bot",
          text: typeof reply.text === "string" ? reply.text : "",
          buttons: Array.isArray(reply.buttons) ? reply.buttons : []
        });
      });
      if (body.message === GREETING && !document.documentElement.hasAttribute("data-saudacao-ms")) {
        // Benchmark figure read by the browser test: page load -> greeting on screen.
        document.documentElement.setAttribute("data-saudacao-ms", String(Math.round(window.performance.now())));
      }
    }).catch(function () {
      if (sentFor === state.sender) { failed(NO_REPLY, body.message); }
    }).then(function () {
      if (timer) { window.clearTimeout(timer); }
      if (sentFor === state.sender) {
        state.pending = false;
        save();
        setBusy(false);
      }
    });
  }

  function failed(text, message) {
    add({ kind: "erro", text: text, buttons: [{ title: "Tentar de novo", payload: message, retry: true }] });
  }

  function greetIfNew() {
    if (!state.items.length && !busy) { send(GREETING, null, true); }
  }

  // ------------------------------------------------------------------ panel

  function openPanel() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.classList.add("aberto");
    state.open = true;
    save();
    scrollDown();
    input.focus();
    greetIfNew();
  }

  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.classList.remove("aberto");
    state.open = false;
    save();
    launcher.focus();
  }

  function restart(identity) {
    state = fresh(identity);
    setBusy(false);
    save();
    renderAll();
    if (state.open) { greetIfNew(); }
  }

  // ------------------------------------------------------------------ "Apagar esta conversa" (LGPD)

  function askErase() {
    eraseStatus.textContent = "";
    eraseConfirm.hidden = false;
    eraseButton.setAttribute("aria-expanded", "true");
    eraseNo.focus(); // the safe choice first
  }

  function closeErase() {
    eraseConfirm.hidden = true;
    eraseButton.setAttribute("aria-expanded", "false");
  }

  function erase() {
    if (busy) { return; }
    var identity = state.token ? { persona: state.persona, name: state.name, token: state.token } : null;
    eraseYes.disabled = true;
    fetch("/api/apagar", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, data: data || {} };
      });
    }).then(function (result) {
      if (!result.ok) {
        var message = result.data.error && typeof result.data.error.message === "string"
          ? result.data.error.message : NOT_ERASED;
        var refusal = new Error(message);
        refusal.fromServer = true;
        throw refusal;
      }
      closeErase();
      restart(identity); // the same person, a new conversation
      eraseStatus.textContent = "Conversa apagada do servidor e desta página.";
      input.focus();
    }).catch(function (error) {
      closeErase();
      eraseStatus.textContent = error && error.fromServer ? error.message : NOT_ERASED;
      eraseButton.focus();
    }).then(function () {
      eraseYes.disabled = false;
    });
  }

  eraseButton.setAttribute("aria-expanded", "false");
  eraseButton.addEventListener("click", function () {
    if (eraseConfirm.hidden) { askErase(); } else { closeErase(); }
  });
  eraseNo.addEventListener("click", function () {
    closeErase();
    eraseButton.focus();
  });
  eraseYes.addEventListener("click", erase);

  launcher.addEventListener("click", function () {
    if (panel.hidden) { openPanel(); } else { closePanel(); }
  });
  if (launcherText) { launcherText.addEventListener("click", openPanel); }
  closeButton.addEventListener("click", closePanel);
  restartButton.addEventListener("click", function () {
    restart(state.token ? { persona: state.persona, name: state.name, token: state.token } : null);
    input.focus();
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      closePanel();
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || busy) { return; }
    input.value = "";
    send(text);
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  // ------------------------------------------------------------------ "entrar como" (development only)

  function loadPersonas() {
    fetch("/api/personas").then(function (response) {
      if (!response.ok) { return null; } // production: no selector
      return response.json();
    }).then(function (data) {
      if (!data || !Array.isArray(data.personas)) { return; }
      var companies = {};
      data.personas.forEach(function (persona) {
        if (!companies[persona.company]) {
          companies[persona.company] = document.createElement("optgroup");
          companies[persona.company].label = persona.company;
          personaSelect.appendChild(companies[persona.company]);
        }
        var option = document.createElement("option");
        option.value = persona.persona;
        option.textContent = persona.name + " (" + persona.profiles.join(", ") + ")";
        companies[persona.company].appendChild(option);
      });
      personaSelect.value = state.persona || "";
      signInBox.hidden = false;
    }).catch(function () { /* no selector */ });
  }

  if (personaSelect) {
    personaSelect.addEventListener("change", function () {
      var persona = personaSelect.value;
      if (!persona) {
        restart(null); // signed out: a new conversation without identity
        return;
      }
      fetch("/api/entrar", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ persona: persona })
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (!result.ok || !result.data.token) { throw new Error("sign-in refused"); }
        // A new identity is a new conversation: the assistant never mixes two people's answers.
        restart({ persona: result.data.persona, name: result.data.name, token: result.data.token });
      }).catch(function () {
        personaSelect.value = state.persona || "";
        who.textContent = "Não foi possível entrar agora. Tente de novo.";
      });
    });
  }

  // ------------------------------------------------------------------ start

  if (state.pending) {
    // Reloaded while waiting: that answer is lost with the old page; say so instead of waiting forever.
    state.pending = false;
    state.items.push({ kind: "erro", text: "A página foi recarregada antes de a resposta chegar. " +
      "Se ainda precisar, repita a mensagem." });
    save();
  }
  renderAll();
  loadPersonas();
  if (state.open) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.classList.add("aberto");
    scrollDown();
    greetIfNew();
  }
}());
