// messtrack dashboard: sortable tables. Each sortable header holds a button;
// each cell carries its raw value in data-v, so money and dates sort as
// numbers whatever their display format. Totals live in <tfoot> and stay put.
"use strict";

/** @param {HTMLTableElement} table @param {number} col @param {boolean} numeric */
function sortTable(table, col, numeric) {
  const th = table.tHead.rows[0].cells[col];
  const asc = th.getAttribute("aria-sort") !== "ascending";
  for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const key = (row) => {
    const v = row.cells[col] ? row.cells[col].dataset.v || "" : "";
    return numeric ? Number(v) : v;
  };
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    const c = numeric ? x - y : String(x).localeCompare(String(y));
    return asc ? c : -c;
  });
  for (const row of rows) body.appendChild(row);
}

// Why on DOMContentLoaded: the script is deferred and served from our own
// origin only (the page's CSP allows no inline script).
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.sortable")) {
    if (!table.tHead || !table.tBodies[0]) continue;
    Array.from(table.tHead.rows[0].cells).forEach((th, col) => {
      const label = th.textContent;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = label;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", () => sortTable(table, col, th.classList.contains("num")));
    });
  }
});
