/*
    JSON as mosquitto_sub prints it (cJSON): compact, or --pretty with a tab per level and a tab after each
    colon, arrays on one line ("[1, 2]"). Objects are lists of entries, so a name may repeat (user properties).
 */

/** An object whose entries are kept in order, repeats included */
export class Entries {
    constructor(readonly list: [string, unknown][] = []) {}

    add(name: string, value: unknown): this {
        this.list.push([name, value])
        return this
    }
}

function entriesOf(v: unknown): [string, unknown][] | null {
    if (v instanceof Entries) return v.list
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return Object.entries(v)
    return null
}

/** cJSON's text for a value: objects (plain or Entries), arrays, strings, numbers, booleans, null. */
export function cjson(v: unknown, pretty: boolean, depth = 1): string {
    const entries = entriesOf(v)
    if (entries !== null) {
        if (!pretty) {
            return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${cjson(x, false)}`).join(',')}}`
        }
        const tabs = '\t'.repeat(depth)
        const body = entries.map(([k, x]) => `${tabs}${JSON.stringify(k)}:\t${cjson(x, true, depth + 1)}`).join(',\n')
        return `{\n${body}${body ? '\n' : ''}${'\t'.repeat(depth - 1)}}`
    }
    if (Array.isArray(v)) {
        return `[${v.map(x => cjson(x, pretty, depth + 1)).join(pretty ? ', ' : ',')}]`
    }
    return JSON.stringify(v) ?? 'null'
}
