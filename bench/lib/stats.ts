/*
    Benchmark helpers: interleaved rounds, medians, min-max, ratio tables.
 */
export function median(values: number[]): number {
    const s = [...values].sort((a, b) => a - b)
    const mid = s.length >> 1
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

export function percentile(values: number[], p: number): number {
    const s = [...values].sort((a, b) => a - b)
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

export function fmtNum(n: number): string {
    if (!Number.isFinite(n)) {
        return String(n)
    }
    const abs = Math.abs(n)
    if (abs >= 1e6) return (n / 1e6).toFixed(2) + 'M'
    if (abs >= 1e4) return (n / 1e3).toFixed(1) + 'k'
    if (abs >= 100) return n.toFixed(0)
    if (abs >= 1) return n.toFixed(2)
    return n.toPrecision(3)
}

export interface Row {
    name: string
    unit: string
    /** Per contender: one value per round. */
    results: Record<string, number[]>
    /** Whether higher values are better (throughput) or lower (time, bytes). */
    higherIsBetter: boolean
}

/** Print a table: medians, min-max and the ratio of `subject` to `baseline` per round and overall. */
export function printTable(title: string, rows: Row[], subject: string, baseline: string): string {
    const lines: string[] = [`\n${title}`]
    const header = ['figure', 'unit', 'contender', 'median', 'min-max', `ratio vs ${baseline} (median; per round)`]
    const table: string[][] = [header]
    for (const row of rows) {
        for (const [contender, values] of Object.entries(row.results)) {
            let ratio = ''
            if (contender === subject && row.results[baseline]) {
                const base = row.results[baseline]
                const per = values.map((v, i) => row.higherIsBetter ? v / base[i] : base[i] / v)
                ratio = `${median(per).toFixed(2)}x; ${per.map(r => r.toFixed(2)).join(' ')}`
            }
            table.push([row.name, row.unit, contender, fmtNum(median(values)),
                `${fmtNum(Math.min(...values))}-${fmtNum(Math.max(...values))}`, ratio])
        }
    }
    const widths = header.map((_, i) => Math.max(...table.map(r => r[i].length)))
    for (const [n, r] of table.entries()) {
        lines.push(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd())
        if (n === 0) {
            lines.push(widths.map(w => '-'.repeat(w)).join('  '))
        }
    }
    const text = lines.join('\n')
    console.log(text)
    return text
}

/** Median ratio of subject over baseline for a row (inverted when lower is better). */
export function medianRatio(row: Row, subject: string, baseline: string): number {
    const s = row.results[subject], b = row.results[baseline]
    return median(s.map((v, i) => row.higherIsBetter ? v / b[i] : b[i] / v))
}

export function progress(text: string): void {
    if (process.stderr.isTTY) {
        process.stderr.write(`\r\x1b[K${text}`)
    } else {
        process.stderr.write(`${text}\n`)
    }
}

export function gc(): void {
    const g = (globalThis as any).gc as (() => void) | undefined
    if (g) {
        g()
        g()
    }
}
