/*
    Every public function and class carries a doc comment with an example: walk the package's entry points
    (following their re-exports) through the TypeScript sources and check each exported declaration.
 */
import test from 'ava'
import { readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { quietLogs } from './helpers/quiet.js'

quietLogs(test)

const root = fileURLToPath(new URL('../../', import.meta.url))
const ENTRIES = ['index.ts', 'mqtt/agent/index.ts', 'mqtt/mongoose.ts', 'mqtt/promise.ts']

/* file -> the names it exports that are public (null: all of them) */
function publicNames(): Map<string, Set<string> | null> {
    const found = new Map<string, Set<string> | null>()
    const visit = (file: string, only: Set<string> | null) => {
        const prior = found.get(file)
        if (prior === null || (prior !== undefined && only !== null && [...only].every(n => prior.has(n)))) {
            return
        }
        found.set(file, only === null || prior === undefined ? only : new Set([...prior, ...only]))
        const src = readFileSync(join(root, file), 'utf8')
        const target = (spec: string) => normalize(join(dirname(file), spec.replace(/\.js$/, '.ts')))
        for (const m of src.matchAll(/export \* from '([^']+)'/g)) {
            visit(target(m[1]), null)
        }
        for (const m of src.matchAll(/export \{([^}]*)\} from '([^']+)'/g)) {
            const names = m[1].split(',').map(s => s.trim()).filter(s => s && !s.startsWith('type ')).map(s => s.split(' as ')[0].trim())
            visit(target(m[2]), new Set(names))
        }
    }
    for (const entry of ENTRIES) {
        visit(entry, null)
    }
    return found
}

test('every public function and class has a doc comment with an @example', t => {
    const lacking: string[] = []
    let checked = 0
    for (const [file, only] of publicNames()) {
        const src = readFileSync(join(root, file), 'utf8')
        for (const m of src.matchAll(/^export (?:function\*?|async function\*?|class) (\w+)/gm)) {
            if (only !== null && !only.has(m[1])) {
                continue
            }
            checked++
            const before = src.slice(0, m.index).trimEnd()
            const doc = before.endsWith('*/') ? before.slice(before.lastIndexOf('/*')) : ''
            if (!doc.includes('@example')) {
                lacking.push(`${file}: ${m[1]}`)
            }
        }
    }
    t.true(checked > 150, `checked ${checked}`)
    t.deepEqual(lacking, [])
})
