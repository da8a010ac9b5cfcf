/* The event admin's recurrence picker (admin/events/recurrence_picker.html).
 *
 * The editor picks a frequency, days, an end; the server writes the RRULE
 * (recurrence_picker.picker_rule) and computes the next dates with the API's bounded
 * validator (recurrence-preview/), shown before saving. The RRULE box stays, folded, for
 * rules the picker cannot express; typing there previews that rule instead.
 */
"use strict";
(function () {
  const DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

  function parseRule(rule) {
    // The picker's fields for ``rule``, or null when the picker cannot express it.
    if (!rule) return { freq: "" };
    const parts = {};
    for (const item of rule.split(";")) {
      const [key, value] = item.split("=");
      if (!key || value === undefined || key in parts) return null;
      parts[key.toUpperCase()] = value.toUpperCase();
    }
    const known = ["FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL"];
    if (Object.keys(parts).some((key) => !known.includes(key))) return null;
    const choice = { freq: parts.FREQ, interval: parts.INTERVAL || "1", end: "never" };
    if (!["DAILY", "WEEKLY", "MONTHLY", "YEARLY"].includes(choice.freq)) return null;
    if (parts.BYDAY) {
      if (choice.freq === "WEEKLY") {
        choice.byday = parts.BYDAY.split(",");
        if (choice.byday.some((day) => !DAYS.includes(day))) return null;
      } else if (choice.freq === "MONTHLY") {
        const match = /^([+-]?\d)([A-Z]{2})$/.exec(parts.BYDAY);
        if (!match || !["1", "2", "3", "4", "-1", "+1", "+2", "+3", "+4"].includes(match[1])) return null;
        choice.monthly = "weekday";
        choice.position = String(parseInt(match[1], 10));
        choice.weekday = match[2];
        if (!DAYS.includes(choice.weekday)) return null;
      } else {
        return null;
      }
    } else if (choice.freq === "WEEKLY") {
      return null; // weekly on the start's weekday: kept as a custom rule
    }
    if (parts.COUNT) {
      choice.end = "count";
      choice.count = parts.COUNT;
    } else if (parts.UNTIL) {
      const match = /^(\d{4})(\d{2})(\d{2})/.exec(parts.UNTIL);
      if (!match) return null;
      choice.end = "until";
      choice.until = `${match[1]}-${match[2]}-${match[3]}`;
    }
    return choice;
  }

  function setup(root) {
    const input = document.getElementById(root.dataset.input);
    const form = input.form;
    const field = (name) => root.querySelector(`[name="${name}"]`);
    const freq = field("pick_freq");
    const custom = root.querySelector(".rp-custom");
    const status = root.querySelector(".rp-status");
    const list = root.querySelector(".rp-dates");
    const unit = root.querySelector(".rp-unit");
    const skipped = form.elements.namedItem("excluded_dates");
    let mode = "picker";
    let timer = null;
    let pending = null;

    function show() {
      const value = freq.value;
      root.querySelector(".rp-when-repeating").hidden = !value;
      root.querySelector(".rp-weekly").hidden = value !== "WEEKLY";
      root.querySelector(".rp-monthly").hidden = value !== "MONTHLY";
      root.querySelector(".rp-end").hidden = !value;
      unit.textContent = value ? unit.dataset[value.toLowerCase()] : "";
    }

    function load(choice) {
      freq.value = choice.freq;
      if (choice.interval) field("pick_interval").value = choice.interval;
      for (const box of root.querySelectorAll('[name="pick_byday"]')) {
        box.checked = (choice.byday || []).includes(box.value);
      }
      if (choice.monthly) root.querySelector(`[name="pick_monthly"][value="${choice.monthly}"]`).checked = true;
      if (choice.position) field("pick_position").value = choice.position;
      if (choice.weekday) field("pick_weekday").value = choice.weekday;
      if (choice.end) root.querySelector(`[name="pick_end"][value="${choice.end}"]`).checked = true;
      if (choice.count) field("pick_count").value = choice.count;
      if (choice.until) field("pick_until").value = choice.until;
    }

    function formValue(name) {
      const element = form.elements.namedItem(name);
      return element && "value" in element ? element.value : "";
    }

    function query() {
      const params = new URLSearchParams();
      params.set("pick_mode", mode);
      if (mode === "rule") {
        params.set("rrule", input.value.trim());
      } else {
        for (const element of root.querySelectorAll("[name^=pick_]")) {
          if ((element.type === "checkbox" || element.type === "radio") && !element.checked) continue;
          params.append(element.name, element.value);
        }
      }
      params.set("skip", skipped ? skipped.value : "");
      params.set("start_0", formValue("start_at_0"));
      params.set("start_1", formValue("start_at_1"));
      const hasTime = form.elements.namedItem("has_start_time");
      params.set("has_start_time", hasTime && !hasTime.checked ? "false" : "true");
      for (const day of form.querySelectorAll('input[name$="-start_at_0"]')) {
        if (day.name.includes("__prefix__") || !day.value) continue;
        const prefix = day.name.slice(0, -"start_at_0".length);
        const deleted = form.elements.namedItem(`${prefix}DELETE`);
        if (deleted && deleted.checked) continue;
        params.append("extra", `${day.value}|${formValue(`${prefix}start_at_1`)}`);
      }
      return params;
    }

    async function refresh() {
      if (pending) pending.abort();
      pending = new AbortController();
      status.classList.remove("rp-error");
      status.textContent = root.dataset.computing;
      try {
        const response = await fetch(`${root.dataset.previewUrl}?${query()}`, {
          signal: pending.signal,
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        const body = await response.json();
        list.replaceChildren();
        if (!response.ok) {
          status.classList.add("rp-error");
          status.textContent = body.error;
          return;
        }
        if (mode === "picker") input.value = body.rrule;
        status.textContent = body.rrule || body.total > 1
          ? root.dataset.total.replace("%(n)s", body.total)
          : root.dataset.single;
        for (const date of body.dates) {
          const item = document.createElement("li");
          const label = document.createElement("span");
          label.className = "rp-label";
          label.textContent = date.label;
          if (date.extra) {
            item.classList.add("rp-extra");
            label.textContent = `${date.label} ${root.dataset.extra}`;
          }
          if (date.skipped) {
            item.classList.add("rp-skipped");
            label.textContent = `${date.label} ${root.dataset.skippedLabel}`;
          }
          item.append(label);
          if (body.rrule && skipped && !date.extra && !date.first) {
            const toggle = document.createElement("button");
            toggle.type = "button";
            toggle.className = "rp-skip";
            toggle.textContent = date.skipped ? root.dataset.restore : root.dataset.skip;
            toggle.addEventListener("click", () => toggleSkip(date.day, !date.skipped));
            item.append(" ", toggle);
          }
          list.append(item);
        }
        if (body.total > body.dates.length) {
          const more = document.createElement("li");
          more.textContent = "…";
          list.append(more);
        }
      } catch (error) {
        if (error.name !== "AbortError") {
          status.classList.add("rp-error");
          status.textContent = root.dataset.failed;
        }
      }
    }

    function toggleSkip(day, skip) {
      const days = skipped.value.split(/\n/).map((line) => line.trim()).filter(Boolean);
      const kept = days.filter((line) => line !== day);
      if (skip) kept.push(day);
      skipped.value = kept.join("\n");
      refresh();
    }

    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    }

    const initial = parseRule(input.value.trim());
    if (initial) {
      load(initial);
    } else {
      mode = "rule";
      custom.open = true;
    }
    show();
    root.addEventListener("change", (event) => {
      if (event.target === input) return;
      mode = "picker";
      show();
      later();
    });
    root.addEventListener("input", (event) => {
      if (event.target === input) {
        mode = "rule";
        const parsed = parseRule(input.value.trim());
        if (parsed) {
          load(parsed);
          show();
        }
      }
      later();
    });
    form.addEventListener("input", (event) => {
      if (!root.contains(event.target) && /start_at|has_start_time|excluded_dates/.test(event.target.name || "")) later();
    });
    form.addEventListener("change", (event) => {
      if (!root.contains(event.target) && /start_at|has_start_time|DELETE/.test(event.target.name || "")) later();
    });
    // Django's calendar and clock shortcuts set the value without an input event.
    document.addEventListener("click", (event) => {
      if (event.target.closest && event.target.closest(".calendarbox, .clockbox, .datetimeshortcuts")) later();
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const root of document.querySelectorAll(".recurrence-picker")) setup(root);
  });
})();
