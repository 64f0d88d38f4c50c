/*
    A latency histogram with bounded memory, in the manner of HdrHistogram: values (microseconds) below 128
    are counted exactly; above, each power of two is split into 64 buckets, so a value is known to within
    1/64 (1.6%) whatever its size, up to about 2^40 us (12 days). 2,240 counters, whatever the count.
    Histograms merge by adding counters and travel as [index, count] pairs.
 */

const SUB = 64
const EXACT = 2 * SUB
const TOP = 40
const BUCKETS = EXACT + (TOP - 7) * SUB

function indexOf(v: number): number {
    if (v < EXACT) {
        return v
    }
    let shift = Math.floor(Math.log2(v)) - 6
    if (Math.floor(v / 2 ** shift) < SUB) {
        shift-- /* log2 rounded up just below a power of two */
    }
    if (shift > TOP - 7) {
        return BUCKETS - 1
    }
    /* v >> shift is in [64, 128): its low six bits pick the bucket within the power of two */
    return EXACT + (shift - 1) * SUB + (Math.floor(v / 2 ** shift) - SUB)
}

/** The largest value a bucket holds. */
function highestIn(index: number): number {
    if (index < EXACT) {
        return index
    }
    const shift = Math.floor((index - EXACT) / SUB) + 1
    const top = (index - EXACT) % SUB + SUB
    return (top + 1) * 2 ** shift - 1
}

export class Histogram {
    counts = new Float64Array(BUCKETS)
    count = 0
    max = 0
    min = Infinity
    sum = 0

    /** Record a value in microseconds (negative values, from clocks apart, count as 0). */
    record(us: number): void {
        const v = us > 0 ? Math.round(us) : 0
        this.counts[indexOf(v)]++
        this.count++
        this.sum += v
        if (v > this.max) this.max = v
        if (v < this.min) this.min = v
    }

    /** The value at percentile p (0-100): the highest value of its bucket, never above the maximum seen. */
    percentile(p: number): number {
        if (this.count === 0) {
            return 0
        }
        const rank = Math.max(1, Math.ceil(p / 100 * this.count))
        let seen = 0
        for (let i = 0; i < BUCKETS; i++) {
            seen += this.counts[i]
            if (seen >= rank) {
                return Math.min(highestIn(i), this.max)
            }
        }
        return this.max
    }

    mean(): number {
        return this.count === 0 ? 0 : this.sum / this.count
    }

    add(other: Histogram): void {
        for (let i = 0; i < BUCKETS; i++) {
            this.counts[i] += other.counts[i]
        }
        this.count += other.count
        this.sum += other.sum
        this.max = Math.max(this.max, other.max)
        this.min = Math.min(this.min, other.min)
    }

    /** The counters that are not zero, with the totals: what a report carries. */
    toJSON(): SparseHistogram {
        const pairs: number[] = []
        for (let i = 0; i < BUCKETS; i++) {
            if (this.counts[i] !== 0) {
                pairs.push(i, this.counts[i])
            }
        }
        return { pairs, count: this.count, sum: this.sum, max: this.max, min: this.count === 0 ? 0 : this.min }
    }

    /** A histogram from its report; throws on a malformed one (a report comes from another process). */
    static from(s: SparseHistogram): Histogram {
        const h = new Histogram()
        if (s === null || typeof s !== 'object' || !Array.isArray(s.pairs) || s.pairs.length % 2 !== 0) {
            throw new TypeError('Malformed histogram')
        }
        for (let i = 0; i < s.pairs.length; i += 2) {
            const index = s.pairs[i], n = s.pairs[i + 1]
            if (!Number.isInteger(index) || index < 0 || index >= BUCKETS || !(n >= 0)) {
                throw new TypeError(`Malformed histogram bucket ${index}`)
            }
            h.counts[index] += n
        }
        h.count = Number(s.count) || 0
        h.sum = Number(s.sum) || 0
        h.max = Number(s.max) || 0
        h.min = h.count === 0 ? Infinity : Number(s.min) || 0
        return h
    }
}

export interface SparseHistogram {
    pairs: number[]
    count: number
    sum: number
    max: number
    min: number
}
