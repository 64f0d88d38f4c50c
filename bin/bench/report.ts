/*
    What a bench run shows: a progress line per second (rates, totals, errors), the summary at the end (as
    text, or JSON with --json), the per-second series as CSV (--csv) and as an SVG chart (--chart).
 */
import { Histogram } from './histogram.js'
import { totalsOf, type Tick, type Totals } from './meter.js'
import type { BenchOptions } from './options.js'

const fmt = new Intl.NumberFormat('en-US')

function n(x: number): string {
    return fmt.format(Math.round(x))
}

/** Microseconds, as people read them */
export function us(v: number): string {
    return v >= 1_000_000 ? `${(v / 1_000_000).toFixed(2)}s` : v >= 1000 ? `${(v / 1000).toFixed(v >= 100_000 ? 0 : 1)}ms` : `${Math.round(v)}us`
}

function errorCount(errors: Record<string, number>): number {
    return Object.values(errors).reduce((a, b) => a + b, 0)
}

/** One line for one second of the run, with the totals so far. */
export function progressLine(o: BenchOptions, t: Tick, total: Totals, clients: number): string {
    const parts = [`[${String(t.second).padStart(4)}s] conn ${n(t.connected)}/${n(clients)} +${n(t.connects)}/s` +
        (total.failures > 0 ? ` failed ${n(total.failures)}` : '')]
    if (o.mode === 'pub') {
        parts.push(`pub ${n(t.sent)}/s sent ${n(total.sent)}` + (o.qos > 0 ? ` acked ${n(total.acked)}` : ''))
    }
    if (o.mode === 'sub') {
        const lat = t.e2eLat === null ? '' : ` p50 ${us(Histogram.from(t.e2eLat).percentile(50))} p99 ${us(Histogram.from(t.e2eLat).percentile(99))}`
        parts.push(`recv ${n(t.received)}/s total ${n(total.received)}${lat}`)
    }
    const errors = errorCount(total.errors)
    if (errors > 0) {
        parts.push(`errors ${n(errors)}`)
    }
    return parts.join(' | ')
}

function percentiles(h: Histogram): Record<string, number> {
    return { count: h.count, min: h.count === 0 ? 0 : h.min, mean: Math.round(h.mean()), p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99), p999: h.percentile(99.9), max: h.max }
}

/** The summary as data (what --json prints). */
export function summaryOf(o: BenchOptions, series: Tick[], clients: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const t = totalsOf(series)
    const seconds = Math.max(1, series.length)
    /* Rates over the seconds that had traffic (a ramp-up or a tail of silence does not dilute them) */
    const active = (k: 'sent' | 'received' | 'connects') => Math.max(1, series.filter(s => s[k] > 0).length)
    return {
        mode: o.mode, host: o.host, port: o.port, tls: o.tls, qos: o.qos, size: o.size, clients, seconds,
        connected: t.connected, peakConnected: t.peakConnected, connects: t.connects, failures: t.failures,
        connectRate: Math.round(t.connects / active('connects')),
        sent: t.sent, acked: t.acked, sendRate: Math.round(t.sent / active('sent')),
        received: t.received, receiveRate: Math.round(t.received / active('received')), duplicates: t.dups, gaps: t.gaps,
        errors: t.errors,
        activeMs: Math.round(t.activeMs),
        messageRate: t.activeMs > 0 ? Math.round((t.sent + t.received) / (t.activeMs / 1000)) : 0,
        connectLatencyUs: percentiles(t.connLat),
        latencyUs: percentiles(t.e2eLat),
        ...extra,
    }
}

function latLine(name: string, p: Record<string, number>): string {
    return p.count === 0 ? `${name}: none measured` :
        `${name}: p50 ${us(p.p50)}  p90 ${us(p.p90)}  p99 ${us(p.p99)}  p99.9 ${us(p.p999)}  max ${us(p.max)}  (${n(p.count)} samples)`
}

/** The summary as text. */
export function summaryText(s: Record<string, any>): string {
    const lines = [`fiber-mqtt bench ${s.mode}: ${n(s.clients)} client${s.clients === 1 ? '' : 's'}, ${s.host}:${s.port}${s.tls ? ' (TLS)' : ''}, ${n(s.seconds)} s` +
        (s.members ? `, ${s.members} processes` : '')]
    lines.push(`  connections: ${n(s.connects)} made (${n(s.connectRate)}/s), ${n(s.failures)} failed, peak ${n(s.peakConnected)} open`)
    lines.push(`  ${latLine('connect latency', s.connectLatencyUs)}`)
    if (s.mode === 'pub') {
        lines.push(`  published: ${n(s.sent)} (${n(s.sendRate)}/s), QoS ${s.qos}, ${n(s.size)} bytes` + (s.qos > 0 ? `, ${n(s.acked)} acknowledged` : ''))
    }
    if (s.mode === 'sub') {
        lines.push(`  received: ${n(s.received)} (${n(s.receiveRate)}/s), ${n(s.duplicates)} duplicates, ${n(s.gaps)} missing in sequence`)
        lines.push(`  ${latLine('end-to-end latency', s.latencyUs)}`)
    }
    if (s.cpuMs !== undefined) {
        lines.push(`  resources: ${n(s.cpuMs)} ms CPU` + (s.sent + s.received > 0 ? ` (${s.cpuUsPerMessage} us per message)` : '') +
            (s.mode === 'conn' && s.peakConnected > 0 ? `, ${n(s.heapPerConnection)} bytes of heap and ${n(s.rssPerConnection)} of RSS per connection` : ''))
    }
    const errors = Object.entries(s.errors as Record<string, number>).sort((a, b) => b[1] - a[1])
    lines.push(errors.length === 0 ? '  errors: none' : `  errors: ${errors.map(([k, v]) => `${k} x${n(v)}`).join(', ')}`)
    return lines.join('\n')
}

/** The per-second series as CSV. */
export function seriesCsv(series: Tick[]): string {
    const rows = ['second,connected,connects,failures,sent,acked,received,duplicates,gaps,errors,latency_p50_us,latency_p99_us']
    for (const t of series) {
        const h = t.e2eLat === null ? null : Histogram.from(t.e2eLat)
        rows.push([t.second, t.connected, t.connects, t.failures, t.sent, t.acked, t.received, t.dups, t.gaps, errorCount(t.errors),
            h?.percentile(50) ?? '', h?.percentile(99) ?? ''].join(','))
    }
    return rows.join('\n') + '\n'
}

function esc(s: string): string {
    return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

interface Line { name: string, color: string, values: number[] }

function panel(title: string, lines: Line[], top: number, width: number, height: number, unit: (v: number) => string): string {
    const left = 70
    const xs = Math.max(1, ...lines.map(l => l.values.length - 1))
    const max = Math.max(1, ...lines.flatMap(l => l.values))
    const x = (i: number) => left + i / xs * (width - left - 20)
    const y = (v: number) => top + height - v / max * height
    const parts = [`<text x="${left}" y="${top - 8}" font-weight="bold">${esc(title)}</text>`,
        `<line x1="${left}" x2="${width - 20}" y1="${top + height}" y2="${top + height}" stroke="#999"/>`,
        `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + height}" stroke="#999"/>`]
    for (const f of [0, 0.5, 1]) {
        parts.push(`<text x="${left - 6}" y="${(y(max * f) + 4).toFixed(1)}" text-anchor="end" font-size="10">${esc(unit(max * f))}</text>`)
    }
    let legend = left + 10
    for (const l of lines) {
        if (l.values.length === 0) continue
        const pts = l.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')
        parts.push(`<polyline fill="none" stroke="${l.color}" stroke-width="1.5" points="${pts}"/>`)
        parts.push(`<text x="${legend}" y="${top + 12}" fill="${l.color}" font-size="11">${esc(l.name)}</text>`)
        legend += 14 + l.name.length * 6.5
    }
    return parts.join('\n')
}

/** The per-second series as an SVG chart: rates above, connections and latency below. */
export function seriesChart(title: string, series: Tick[]): string {
    const width = 760
    const h = 150
    const lat = (k: number) => series.map(t => t.e2eLat === null ? 0 : Histogram.from(t.e2eLat).percentile(k) / 1000)
    const body = [
        panel('messages per second', [
            { name: 'published', color: '#1f77b4', values: series.map(t => t.sent) },
            { name: 'received', color: '#2ca02c', values: series.map(t => t.received) },
        ], 60, width, h, v => n(v)),
        panel('connections', [
            { name: 'open', color: '#9467bd', values: series.map(t => t.connected) },
            { name: 'made per second', color: '#ff7f0e', values: series.map(t => t.connects) },
        ], 60 + h + 50, width, h, v => n(v)),
        panel('end-to-end latency (ms)', [
            { name: 'p50', color: '#17becf', values: lat(50) },
            { name: 'p99', color: '#d62728', values: lat(99) },
        ], 60 + 2 * (h + 50), width, h, v => v.toFixed(1)),
    ]
    const height = 60 + 3 * (h + 50)
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${esc(title)}</text>
<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11">seconds since the start</text>
${body.join('\n')}
</svg>
`
}
