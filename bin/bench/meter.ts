/*
    What a bench run counts. A source (one process's clients) keeps a Meter and hands out one Tick per second:
    the counts of that second, the gauges at its end and the latencies recorded in it. Ticks from many
    sources (workers, members of a coordinated run) add up second by second into the run's series, and the
    series into its totals.
 */
import { Histogram, type SparseHistogram } from './histogram.js'

export interface Tick {
    /** Seconds since the run started (1: the first second) */
    second: number
    /** Gauges at the end of the second, and the most connections open at once within it */
    connected: number
    subscribed: number
    peak: number
    /** Counts within the second */
    connects: number
    failures: number
    sent: number
    acked: number
    received: number
    dups: number
    gaps: number
    /** Failures and errors by reason */
    errors: Record<string, number>
    /** When the first and the last message of the second was sent or received (ms since the epoch; 0: none) */
    firstMs: number
    lastMs: number
    /** Connect latency (TCP, TLS and CONNACK) and end-to-end message latency, in microseconds */
    connLat: SparseHistogram | null
    e2eLat: SparseHistogram | null
}

const COUNTS = ['connects', 'failures', 'sent', 'acked', 'received', 'dups', 'gaps'] as const
const GAUGES = ['connected', 'subscribed', 'peak'] as const

export function emptyTick(second: number): Tick {
    return {
        second, connected: 0, subscribed: 0, peak: 0, connects: 0, failures: 0, sent: 0, acked: 0, received: 0, dups: 0, gaps: 0,
        errors: {}, firstMs: 0, lastMs: 0, connLat: null, e2eLat: null,
    }
}

/** The counters one source updates as its clients work. */
export class Meter {
    connected = 0
    subscribed = 0
    peak = 0
    connects = 0
    failures = 0
    sent = 0
    acked = 0
    received = 0
    dups = 0
    gaps = 0
    errors: Record<string, number> = {}
    firstMs = 0
    lastMs = 0
    connLat = new Histogram()
    e2eLat = new Histogram()

    up(): void {
        if (++this.connected > this.peak) this.peak = this.connected
    }

    down(): void {
        this.connected--
    }

    /** A message went out or came in at this time */
    message(ms: number): void {
        if (this.firstMs === 0) this.firstMs = ms
        this.lastMs = ms
    }

    error(reason: string): void {
        this.errors[reason] = (this.errors[reason] ?? 0) + 1
    }

    /** The second just ended, and a fresh start for the next. */
    take(second: number): Tick {
        const t: Tick = {
            second, connected: this.connected, subscribed: this.subscribed, peak: this.peak, connects: this.connects, failures: this.failures,
            sent: this.sent, acked: this.acked, received: this.received, dups: this.dups, gaps: this.gaps, errors: this.errors,
            firstMs: this.firstMs, lastMs: this.lastMs,
            connLat: this.connLat.count > 0 ? this.connLat.toJSON() : null,
            e2eLat: this.e2eLat.count > 0 ? this.e2eLat.toJSON() : null,
        }
        this.peak = this.connected
        this.connects = this.failures = this.sent = this.acked = this.received = this.dups = this.gaps = 0
        this.errors = {}
        this.firstMs = this.lastMs = 0
        this.connLat = new Histogram()
        this.e2eLat = new Histogram()
        return t
    }
}

function mergeHist(a: SparseHistogram | null, b: SparseHistogram | null): SparseHistogram | null {
    if (a === null || b === null) {
        return a ?? b
    }
    const h = Histogram.from(a)
    h.add(Histogram.from(b))
    return h.toJSON()
}

/** Two sources' ticks of the same second, added. */
export function addTicks(a: Tick, b: Tick): Tick {
    const t = emptyTick(a.second)
    for (const k of [...COUNTS, ...GAUGES]) {
        t[k] = a[k] + b[k]
    }
    t.errors = { ...a.errors }
    for (const [k, v] of Object.entries(b.errors)) {
        t.errors[k] = (t.errors[k] ?? 0) + v
    }
    t.firstMs = a.firstMs === 0 || b.firstMs === 0 ? a.firstMs || b.firstMs : Math.min(a.firstMs, b.firstMs)
    t.lastMs = Math.max(a.lastMs, b.lastMs)
    t.connLat = mergeHist(a.connLat, b.connLat)
    t.e2eLat = mergeHist(a.e2eLat, b.e2eLat)
    return t
}

/** A tick that came from another process, checked field by field (throws TypeError when malformed). */
export function checkTick(x: unknown): Tick {
    const t = x as Tick
    if (t === null || typeof t !== 'object' || !Number.isInteger(t.second) || t.second < 0) {
        throw new TypeError('Malformed tick')
    }
    for (const k of [...COUNTS, ...GAUGES]) {
        if (typeof t[k] !== 'number' || !(t[k] >= 0)) {
            throw new TypeError(`Malformed tick: ${k}`)
        }
    }
    t.firstMs = Number(t.firstMs) || 0
    t.lastMs = Number(t.lastMs) || 0
    if (t.errors === null || typeof t.errors !== 'object') {
        throw new TypeError('Malformed tick: errors')
    }
    /* Histograms are checked as they are read */
    if (t.connLat !== null) Histogram.from(t.connLat)
    if (t.e2eLat !== null) Histogram.from(t.e2eLat)
    return t
}

/** The whole run: totals, peaks and latency distributions from its series. */
export interface Totals {
    seconds: number
    connected: number
    peakConnected: number
    subscribed: number
    connects: number
    failures: number
    sent: number
    acked: number
    received: number
    dups: number
    gaps: number
    errors: Record<string, number>
    /** From the first message sent or received to the last, in ms (0: fewer than two) */
    activeMs: number
    connLat: Histogram
    e2eLat: Histogram
}

export function totalsOf(series: Tick[]): Totals {
    const total: Totals = {
        seconds: series.length, connected: 0, peakConnected: 0, subscribed: 0, connects: 0, failures: 0, sent: 0, acked: 0,
        received: 0, dups: 0, gaps: 0, errors: {}, activeMs: 0, connLat: new Histogram(), e2eLat: new Histogram(),
    }
    let first = 0
    let last = 0
    for (const t of series) {
        for (const k of COUNTS) {
            total[k] += t[k]
        }
        for (const [k, v] of Object.entries(t.errors)) {
            total.errors[k] = (total.errors[k] ?? 0) + v
        }
        if (t.connLat !== null) total.connLat.add(Histogram.from(t.connLat))
        if (t.e2eLat !== null) total.e2eLat.add(Histogram.from(t.e2eLat))
        total.peakConnected = Math.max(total.peakConnected, t.peak ?? t.connected)
        if (t.firstMs > 0 && (first === 0 || t.firstMs < first)) first = t.firstMs
        last = Math.max(last, t.lastMs)
        total.connected = t.connected
        total.subscribed = t.subscribed
    }
    total.activeMs = first > 0 ? last - first : 0
    return total
}
