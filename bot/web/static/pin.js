// The "shown once" PIN page: copy to the clipboard; Continue only once "stored safely" is ticked.
(function () {
  "use strict";
  var value = document.getElementById("pin-value");
  var copy = document.getElementById("copy");
  var stored = document.getElementById("stored");
  var proceed = document.getElementById("continue");
  if (!value || !copy || !stored || !proceed) { return; }

  copy.hidden = false;
  copy.addEventListener("click", function () {
    var label = copy.textContent;
    navigator.clipboard.writeText(value.textContent.trim()).then(function () {
      copy.textContent = copy.dataset.copied;
      setTimeout(function () { copy.textContent = label; }, 2000);
    });
  });

  function sync() { proceed.disabled = !stored.checked; }
  stored.addEventListener("change", sync);
  sync();
})();
