// Printing a page prints every folded answer and code cell unfolded (a teacher's answer key).
// CSS unfolds <details> in print where the browser supports ::details-content (course.css);
// this opens them for browsers that do not, and folds them back afterwards.
(() => {
  let opened = [];
  window.addEventListener("beforeprint", () => {
    opened = [...document.querySelectorAll("details:not([open])")];
    opened.forEach((d) => { d.open = true; });
  });
  window.addEventListener("afterprint", () => {
    opened.forEach((d) => { d.open = false; });
    opened = [];
  });
})();
