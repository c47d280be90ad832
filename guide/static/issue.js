// "Skapa nya kort": offer only the chosen guide's phases as the start phase.
// Progressive enhancement: without this script every guide's phases are listed,
// grouped by guide, and the server refuses a phase the chosen guide does not have.
document.addEventListener("DOMContentLoaded", () => {
  const guide = document.getElementById("guide");
  const phase = document.getElementById("phase");
  if (!guide || !phase) return;
  const groups = Array.from(phase.querySelectorAll("optgroup[data-guide]"));
  const offerChosenGuide = () => {
    for (const group of groups) {
      const chosen = group.dataset.guide === guide.value;
      group.hidden = !chosen;
      group.disabled = !chosen;
      if (!chosen && phase.selectedOptions[0] && phase.selectedOptions[0].parentElement === group) {
        phase.value = "";
      }
    }
  };
  guide.addEventListener("change", offerChosenGuide);
  offerChosenGuide();
});
