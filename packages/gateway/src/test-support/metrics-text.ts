/** `name{labels} value` lines of one metric in a Prometheus text exposition, as [labels text, value]. */
export function metricSeries(text: string, name: string): Array<[string, number]> {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => [l.slice(name.length, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]);
}

/** The values of one metric's series whose labels match, summed. */
export function metricSum(text: string, name: string, labels: RegExp): number {
  return metricSeries(text, name)
    .filter(([l]) => labels.test(l))
    .reduce((s, [, v]) => s + v, 0);
}
