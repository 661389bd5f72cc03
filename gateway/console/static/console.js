// Herald console: the little JavaScript there is. Pages work without it.
// A form's submit buttons are disabled once it is sent, so a second click
// at 2 a.m. does not post the same update twice (the server's idempotency
// is the real guard; this spares the person the confusion).
document.addEventListener("submit", function (ev) {
  var form = ev.target;
  if (ev.defaultPrevented || form.dataset.sent) { if (form.dataset.sent) ev.preventDefault(); return; }
  form.dataset.sent = "1";
  // After this event, so the clicked button's name and value are still sent.
  setTimeout(function () {
    form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) { b.disabled = true; });
  }, 0);
});

// Copy buttons (sources screen): <button data-copy="input-id"> copies
// that field, e.g. a token shown once. Without JavaScript the field is
// still there to select and copy by hand.
document.addEventListener("click", function (ev) {
  var b = ev.target.closest && ev.target.closest("button[data-copy]");
  if (!b) { return; }
  var field = document.getElementById(b.dataset.copy);
  if (!field) { return; }
  field.select();
  var done = function () { b.textContent = "Copied"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});
