// The Status page's charts: commands a second, and answer times, over the last ten minutes.
const source = document.getElementById("commands-chart").dataset.source;
const time = (at) => new Date(at * 1000).toLocaleTimeString();
function chart(id, datasets, yTitle) {
  return new Chart(document.getElementById(id), {
    type: "line",
    data: { labels: [], datasets: datasets.map(([label, color]) => ({ label, data: [], borderColor: color, backgroundColor: color, pointRadius: 0, spanGaps: true })) },
    options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { beginAtZero: true, title: { display: true, text: yTitle } } } },
  });
}
const commands = chart("commands-chart", [["commands a second", "#1f3a5f"]], "commands/s");
const latency = chart("latency-chart", [["answer mean", "#1b7f4b"], ["answer p95", "#b3261e"]], "ms");
async function refresh() {
  try {
    const { points } = await (await fetch(source)).json();
    commands.data.labels = latency.data.labels = points.map((p) => time(p.at));
    commands.data.datasets[0].data = points.map((p) => p.commands_per_second);
    latency.data.datasets[0].data = points.map((p) => p.answer_mean_ms);
    latency.data.datasets[1].data = points.map((p) => p.answer_p95_ms);
    commands.update(); latency.update();
  } catch (error) { /* the next refresh tries again */ }
}
refresh();
setInterval(refresh, 2000);
