/* Restriction rows of the roadwork form (admin/works/restriction_rows.html; row i posts
 * restrictions-i-type, -value, -unit): a value and a unit
 * only for the types measured in one (height, width, length, weights), with the units of that
 * kind; "Ajouter une restriction" adds a blank row. The server checks everything again. */
"use strict";
(function () {
  function fit(row) {
    const type = row.querySelector('select[name$="-type"]');
    const value = row.querySelector('input[name$="-value"]');
    const unit = row.querySelector('select[name$="-unit"]');
    const chosen = type.selectedOptions[0];
    const units = chosen && chosen.dataset.units ? chosen.dataset.units.split(" ") : [];
    const measured = units.length > 0;
    value.disabled = unit.disabled = !measured;
    if (!measured) {
      value.value = "";
      unit.value = "";
    }
    for (const option of unit.options) {
      option.hidden = option.value !== "" && !units.includes(option.value);
    }
    if (measured && !units.includes(unit.value)) {
      // Quartier writes centimetres and kilograms (WZDx allows the others on import).
      unit.value = units.includes("centimeters") ? "centimeters" : units.includes("kilograms") ? "kilograms" : units[0];
    }
  }

  function setup(root) {
    const body = root.querySelector("tbody");
    for (const row of body.rows) fit(row);
    root.addEventListener("change", (event) => {
      if (event.target.name && event.target.name.endsWith("-type")) fit(event.target.closest("tr"));
    });
    root.querySelector(".restriction-add").addEventListener("click", () => {
      const index = body.rows.length;
      const row = body.rows[index - 1].cloneNode(true);
      for (const field of row.querySelectorAll("select, input")) {
        field.name = field.name.replace(/-\d+-(type|value|unit)$/, `-${index}-$1`);
        field.value = "";
      }
      body.append(row);
      fit(row);
      row.querySelector("select").focus();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const root of document.querySelectorAll(".restriction-rows")) setup(root);
  });
})();
