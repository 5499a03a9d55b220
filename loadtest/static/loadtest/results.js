// The Results page: one line per configuration over the number of generators, with error bars for means.
// Drawn again when a run started from the page ends (the progress bar's answer carries HX-Trigger).
let chart = null;
async function drawResults() {
  const canvas = document.getElementById("results-chart");
  const metric = canvas.dataset.metric;
  const errorKey = metric.startsWith("average-") ? "err-" + metric.slice("average-".length) : null;
  const { items } = await (await fetch(canvas.dataset.source)).json();
  const byCategory = new Map();
  for (const item of items) {
    if (item[metric] == null) continue;
    if (!byCategory.has(item.category)) byCategory.set(item.category, []);
    byCategory.get(item.category).push({ x: item.generators, y: item[metric], err: errorKey ? item[errorKey] : null });
  }
  const palette = ["#1f3a5f", "#1b7f4b", "#b3261e", "#8a5a00", "#6a3d9a", "#00838f", "#5f6b7a", "#c2185b"];
  const datasets = [...byCategory].map(([category, points], i) => ({
    label: category, data: points.sort((a, b) => a.x - b.x), borderColor: palette[i % palette.length],
    backgroundColor: palette[i % palette.length], pointRadius: 2, borderWidth: category.startsWith("original") ? 1 : 2.5,
  }));
  const errorBars = {
    id: "errorBars",
    afterDatasetsDraw(chart) {
      const { ctx, scales: { y } } = chart;
      chart.data.datasets.forEach((dataset, i) => {
        if (!chart.isDatasetVisible(i)) return;
        chart.getDatasetMeta(i).data.forEach((point, j) => {
          const err = dataset.data[j].err;
          if (!err) return;
          const top = y.getPixelForValue(dataset.data[j].y + err), bottom = y.getPixelForValue(dataset.data[j].y - err);
          ctx.save(); ctx.strokeStyle = dataset.borderColor; ctx.beginPath();
          ctx.moveTo(point.x, top); ctx.lineTo(point.x, bottom);
          ctx.moveTo(point.x - 3, top); ctx.lineTo(point.x + 3, top); ctx.moveTo(point.x - 3, bottom); ctx.lineTo(point.x + 3, bottom);
          ctx.stroke(); ctx.restore();
        });
      });
    },
  };
  if (chart) chart.destroy();
  chart = new Chart(canvas, {
    type: "line", data: { datasets }, plugins: [errorBars],
    options: {
      parsing: false, animation: false, responsive: true, maintainAspectRatio: false,
      scales: { x: { type: "linear", title: { display: true, text: "generators" } },
                y: { title: { display: true, text: document.querySelector("select[name=metric] option:checked").textContent } } },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.raw.y.toFixed(1)}` +
                                                   (c.raw.err ? ` ± ${c.raw.err.toFixed(1)}` : "") } } },
    },
  });
}
drawResults();
document.body.addEventListener("load-test-ended", drawResults);
