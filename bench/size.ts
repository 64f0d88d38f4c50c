/*
    npm run size: the minified and gzipped size of the library, bundled by esbuild (code splitting on, so what
    is imported with import() on first use is a chunk of its own), beside MQTT.js bundled the same way.
    Rows: each layer with everything it exports; the MQTT 3.1.1 client as an app that speaks it loads it
    (MQTT 5, WebSocket and TLS are parts imported when selected); those parts; and what a publishing and
    subscribing app loads at start, tree-shaken: connecting by URL, and connecting as a port of Ioto's C
    examples does (rConnectSocket, then mqttConnect, imported from the package's root). Checked in the same run:
    no MQTT 5, WebSocket or TLS module at an app's start, nor the codec's server side.
 */
import { build, transform, type Metafile, type Plugin } from 'esbuild'
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface Size {
    label: string
    /** Loaded at start (the entry and the chunks it imports statically) */
    min: number
    gz: number
    /** Loaded on first use (import()): minified bytes */
    lazyMin: number
    lazyGz: number
    /** The library's modules in what is loaded at start, with their minified bytes */
    modules: Map<string, number>
}

/* The chunks an output reaches by static imports, itself included */
function initial(meta: Metafile, entry: string, seen = new Set<string>()): Set<string> {
    seen.add(entry)
    for (const i of meta.outputs[entry].imports) {
        if (i.kind === 'import-statement' && !seen.has(i.path) && meta.outputs[i.path] !== undefined) {
            initial(meta, i.path, seen)
        }
    }
    return seen
}

/* Every string and template text of the library's modules emptied (module specifiers kept): what its code weighs
   without its messages, to show what bounds the size */
function withoutText(source: string): string {
    const file = ts.createSourceFile('m.js', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS)
    const empty: ts.TransformerFactory<ts.SourceFile> = context => {
        const visit = (node: ts.Node): ts.Node => {
            if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node) ||
                (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword)) {
                return node
            }
            if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
                return ts.isStringLiteral(node) ? ts.factory.createStringLiteral('') : ts.factory.createNoSubstitutionTemplateLiteral('')
            }
            if (ts.isTemplateExpression(node)) {
                return ts.factory.createTemplateExpression(ts.factory.createTemplateHead(''), node.templateSpans.map((span, i) =>
                    ts.factory.createTemplateSpan(ts.visitNode(span.expression, visit) as ts.Expression,
                        i === node.templateSpans.length - 1 ? ts.factory.createTemplateTail('') : ts.factory.createTemplateMiddle(''))))
            }
            return ts.visitEachChild(node, visit, context)
        }
        return sf => ts.visitNode(sf, visit) as ts.SourceFile
    }
    const out = ts.transform(file, [empty])
    const text = ts.createPrinter().printFile(out.transformed[0])
    out.dispose()
    return text
}
const textless: Plugin = {
    name: 'without-text',
    setup(b) {
        b.onLoad({ filter: /\/dist\/(runtime|socket|mqtt)\/.*\.js$/ }, args => ({ contents: withoutText(readFileSync(args.path, 'utf8')), loader: 'js' }))
    },
}

/* An app bundled as npm run size bundles it (minified or not): its output files, each with its path relative to
   the root, and which of them load at start */
async function bundle(contents: string, minify: boolean, plugins: Plugin[] = []) {
    const result = await build({
        stdin: { contents, resolveDir: root, loader: 'js', sourcefile: 'app.js' },
        bundle: true, minify, format: 'esm', platform: 'node', write: false, logLevel: 'silent',
        splitting: true, outdir: `${root}/size-out`, metafile: true, plugins,
    })
    const meta = result.metafile
    const entry = Object.keys(meta.outputs).find(o => meta.outputs[o].entryPoint !== undefined)!
    const files = result.outputFiles.map(f => ({ file: f, rel: f.path.slice(root.length).replace(/^\/+/, '') }))
    return { meta, files, start: initial(meta, entry) }
}

async function size(label: string, contents: string, plugins: Plugin[] = []): Promise<Size> {
    const { meta, files, start } = await bundle(contents, true, plugins)
    const s: Size = { label, min: 0, gz: 0, lazyMin: 0, lazyGz: 0, modules: new Map() }
    for (const { file: f, rel } of files) {
        const gz = gzipSync(f.contents, { level: 9 }).length
        if (start.has(rel)) {
            for (const [input, { bytesInOutput }] of Object.entries(meta.outputs[rel].inputs)) {
                s.modules.set(input.replace(/^dist\//, ''), bytesInOutput)
            }
            s.min += f.contents.length
            s.gz += gz
        } else {
            s.lazyMin += f.contents.length
            s.lazyGz += gz
        }
    }
    return s
}

const all = (...entries: string[]) => entries.map(e => `export * from './dist/${e}'`).join('\n')
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`

/* Everything the runtime, socket and client indexes export but the parts an app selects: MQTT 5 (mqttSetProtocol
   and the calls only MQTT 5 has) and WebSocket (rSetWebSocket; mqttConnectUrl imports it for a ws:// URL) */
const PARTS = /from '\.\/(protocol5|auth|subscribe5|websocket)\.js'/
function exportsOf(index: string): string {
    const dir = index.slice(0, index.lastIndexOf('/') + 1)
    return readFileSync(`${root}/dist/${index}`, 'utf8').split('\n')
        .filter(line => line.startsWith('export ') && !PARTS.test(line))
        .map(line => line.replace("from './", `from './dist/${dir}`)).join('\n')
}
const CLIENT_311 = ['runtime/index.js', 'socket/index.js', 'mqtt/codec/index.js', 'mqtt/client/index.js'].map(exportsOf).join('\n') + `
export * from './dist/mqtt/constants.js'
export * from './dist/mqtt/topic.js'`
const core = await size('runtime + socket + MQTT 3.1.1 client', CLIENT_311)
const rows: Size[] = [
    await size('runtime', all('runtime/index.js')),
    await size('socket (with runtime)', all('socket/index.js')),
    core,
    await size('runtime + socket + mqtt, everything', all('runtime/index.js', 'socket/index.js', 'mqtt/index.js')),
    await size('agent (extra)', all('runtime/index.js', 'socket/index.js', 'mqtt/index.js', 'mqtt/agent/index.js')),
]
/* What an app that connects, publishes and subscribes loads: the rest is shaken out */
const appCalls = (calls: string[]) => `import { ${calls.join(', ')} } from './dist/mqtt/index.js'
    import { rInit, rServiceEvents } from './dist/runtime/index.js'
    export default [${calls.join(', ')}, rInit, rServiceEvents]`
const APP = ['mqttAlloc', 'mqttConnectUrl', 'mqttPublish', 'mqttSubscribe']
const app = await size('app: connect, publish, subscribe (fiber-mqtt)', appCalls(APP))
/* The same app as a port of Ioto's C examples writes it, from the package's root: the socket connected first, then mqttConnect */
const PORTED = ['mqttAlloc', 'mqttConnect', 'mqttPublish', 'mqttSubscribe', 'rAllocSocket', 'rConnectSocket', 'rInit', 'rServiceEvents']
const ported = await size('the same app ported from C (rConnectSocket)', `import { ${PORTED.join(', ')} } from 'fiber-mqtt'
    export default [${PORTED.join(', ')}]`)
const app5 = await size('app, MQTT 5 (fiber-mqtt)', appCalls([...APP, 'mqttSetProtocol']))
const appCode = await size('the same app, every string emptied', appCalls(APP), [textless])
const appJs = await size('app: connect, publish, subscribe (MQTT.js)', `import mqtt from 'mqtt'\nexport default mqtt.connect`)
const mqttjs = await size('MQTT.js (everything exported)', `export * from 'mqtt'`)
rows.push(app, ported, app5, appJs, mqttjs)
for (const r of rows) {
    const lazy = r.lazyMin > 0 ? `   + ${kb(r.lazyMin)} / ${kb(r.lazyGz)} on first use` : ''
    console.log(`${r.label.padEnd(48)} ${kb(r.min).padStart(9)} minified ${kb(r.gz).padStart(8)} gzipped${lazy}`)
}
console.log(`\nruntime + socket + MQTT 3.1.1 client: ${kb(core.gz)} minified+gzipped at start; MQTT.js ${kb(mqttjs.gz)}: 1/${(mqttjs.gz / core.gz).toFixed(1)} (target <= 1/5)`)
/* The parts stay out of a 3.1.1 app's start: checked, not assumed (a static import would pull them in). TLS
   (tls-options.js, with node:tls) is loaded by the first TLS connect or listen */
const parts = ['mqtt/codec/encode5.js', 'mqtt/codec/decode5.js', 'mqtt/codec/properties.js', 'mqtt/client/inbound5.js', 'mqtt/client/send5.js', 'socket/ws-frames.js', 'socket/websocket.js']
const loaded = parts.filter(p => app.modules.has(p) || ported.modules.has(p) || core.modules.has(p))
console.log(`MQTT 5 and WebSocket modules loaded at start by a 3.1.1 app: ${loaded.length === 0 ? 'none' : loaded.join(', ')}`)
const tlsAtStart = [app, ported].filter(a => a.modules.has('socket/tls-options.js')).map(a => a.label)
console.log(`the TLS part loaded at start by an app (by URL, or ported from C): ${tlsAtStart.length === 0 ? 'no (on its first TLS connect)' : tlsAtStart.join(', ')}`)
/* A client reads what a server sends and writes what a client sends: the other half of the codec (a broker's)
   stays out of an app. Checked by name in the app's start, bundled without minifying */
const SERVER_SIDE = ['parseConnect', 'parseSubscribe', 'parseUnsubscribe', 'connackLength', 'subackLength']
async function namesAtStart(contents: string, names: string[]): Promise<string[]> {
    const { files, start } = await bundle(contents, false)
    const text = files.filter(f => start.has(f.rel)).map(f => f.file.text).join('\n')
    return names.filter(n => new RegExp(`function ${n}\\b`).test(text))
}
const serverSide = [...new Set([...await namesAtStart(appCalls(APP), SERVER_SIDE), ...await namesAtStart(`export { ${PORTED.join(', ')} } from 'fiber-mqtt'`, SERVER_SIDE)])]
console.log(`the codec's server side (parsing CONNECT, SUBSCRIBE, UNSUBSCRIBE; encoding CONNACK, SUBACK) at an app's start: ${serverSide.length === 0 ? 'none' : serverSide.join(', ')}`)
/* Where an app's bytes are: what bounds its size */
const layers = new Map<string, number>()
for (const [m, bytes] of app.modules) {
    const layer = /^(runtime|socket|mqtt\/codec)\//.exec(m)?.[1] ?? (m.startsWith('mqtt/') ? 'mqtt client' : 'app')
    layers.set(layer, (layers.get(layer) ?? 0) + bytes)
}
console.log(`an app's bundle at start by layer (minified): ${[...layers].filter(([l]) => l !== 'app').map(([l, b]) => `${l} ${kb(b)}`).join(', ')}`)
console.log(`an app's bundle at start: ${kb(app.gz)} against MQTT.js's ${kb(appJs.gz)}: 1/${(appJs.gz / app.gz).toFixed(1)}; with MQTT 5: ${kb(app5.gz)}, 1/${(appJs.gz / app5.gz).toFixed(1)}`)
/* What bounds it: the code, not its text (the messages mqttGetError returns, the log lines) */
console.log(`the same app with every string emptied (its code alone): ${kb(appCode.gz)}, 1/${(appJs.gz / appCode.gz).toFixed(2)} of MQTT.js; its text is ${kb(app.gz - appCode.gz)} of the ${kb(app.gz)}`)

/* What each part of the app costs in its gzipped start: the start bundled without minifying, each module's text
   taken out in turn, what is left minified and gzipped as a whole (gzip shares what modules repeat, so a
   module's cost is what leaving it out saves, not its own gzipped size; the costs add up to less than the
   bundle, whose header, imports and what modules share are nobody's) */
const plain = await bundle(appCalls(APP), false)
const entryOut = Object.keys(plain.meta.outputs).find(o => plain.meta.outputs[o].entryPoint !== undefined)!
const plainEntry = plain.files.find(f => f.rel === entryOut)!.file.text
const pieces = plainEntry.split(/^(\/\/ dist\/\S+\.js)$/m)
const gzOf = async (code: string) => gzipSync((await transform(code, { minify: true, format: 'esm' })).code, { level: 9 }).length
const whole = await gzOf(plainEntry)
const cost = new Map<string, number>()
for (let i = 1; i < pieces.length; i += 2) {
    const rest = pieces.slice(0, i).join('') + pieces.slice(i + 2).join('')
    const m = pieces[i].replace(/^\/\/ dist\//, '')
    cost.set(m, (cost.get(m) ?? 0) + whole - await gzOf(rest))
}
const byLayer = new Map<string, number>()
for (const [m, c] of cost) {
    const layer = /^(runtime|socket|mqtt\/codec)\//.exec(m)?.[1] ?? 'mqtt client (topics, URLs)'
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + c)
}
const top = [...cost].sort((a, b) => b[1] - a[1]).slice(0, 8)
console.log(`what each layer of the app costs in its gzipped start (leaving it out saves): ${[...byLayer].sort((a, b) => b[1] - a[1]).map(([l, c]) => `${l} ${kb(c)}`).join(', ')}`)
console.log(`  the costliest modules: ${top.map(([m, c]) => `${m} ${kb(c)}`).join(', ')}`)
const target = appJs.gz / 5
console.log(`1/5 of MQTT.js is ${kb(target)}: the app is ${kb(app.gz - target)} over it; its code alone ${kb(appCode.gz - target)} over it, its text ${kb(app.gz - appCode.gz)}`)
