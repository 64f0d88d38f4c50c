/*
    A bar chart of ratios as SVG, written by hand (no plotting dependency).
 */
export interface Bar {
    label: string
    values: { name: string, value: number, color: string }[]
    target?: number
}

function esc(s: string): string {
    return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Horizontal grouped bars on a log scale (ratios from 0.1x to the largest), with target ticks. */
export function barChart(title: string, bars: Bar[]): string {
    const labelWidth = 330
    const plotWidth = 520
    const rowHeight = 18
    const gap = 14
    const top = 46
    const max = Math.max(10, ...bars.flatMap(b => b.values.map(v => v.value)), ...bars.map(b => b.target ?? 0))
    const min = 0.1
    const x = (v: number) => labelWidth + (Math.log10(Math.max(min, v)) - Math.log10(min)) / (Math.log10(max * 1.2) - Math.log10(min)) * plotWidth
    let y = top
    const parts: string[] = []
    for (const bar of bars) {
        parts.push(`<text x="${labelWidth - 8}" y="${y + rowHeight * bar.values.length / 2 + 4}" text-anchor="end">${esc(bar.label)}</text>`)
        for (const v of bar.values) {
            const w = Math.max(1, x(v.value) - x(min))
            parts.push(`<rect x="${x(min)}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowHeight - 4}" fill="${v.color}"/>`)
            parts.push(`<text x="${(x(min) + w + 4).toFixed(1)}" y="${y + rowHeight - 5}" font-size="11">${v.value.toFixed(2)}x</text>`)
            y += rowHeight
        }
        if (bar.target) {
            const tx = x(bar.target).toFixed(1)
            parts.push(`<line x1="${tx}" x2="${tx}" y1="${y - rowHeight * bar.values.length}" y2="${y}" stroke="#c00" stroke-dasharray="3,2"/>`)
        }
        y += gap
    }
    const one = x(1).toFixed(1)
    parts.push(`<line x1="${one}" x2="${one}" y1="${top - 6}" y2="${y}" stroke="#333"/>`)
    parts.push(`<text x="${one}" y="${top - 10}" text-anchor="middle" font-size="11">1x (MQTT.js)</text>`)
    const legendNames = bars[0]?.values ?? []
    legendNames.forEach((v, i) => {
        parts.push(`<rect x="${labelWidth + i * 150}" y="${y + 4}" width="12" height="12" fill="${v.color}"/>`)
        parts.push(`<text x="${labelWidth + i * 150 + 16}" y="${y + 14}" font-size="12">${esc(v.name)}</text>`)
    })
    parts.push(`<line x1="${labelWidth + legendNames.length * 150}" x2="${labelWidth + legendNames.length * 150 + 14}" y1="${y + 10}" y2="${y + 10}" stroke="#c00" stroke-dasharray="3,2"/>`)
    parts.push(`<text x="${labelWidth + legendNames.length * 150 + 18}" y="${y + 14}" font-size="12">target</text>`)
    const height = y + 30
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 80}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>
${parts.join('\n')}
</svg>
`
}
