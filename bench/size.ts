/*
    npm run size: the minified and gzipped size of the library (runtime + socket + mqtt client and codec,
    without the agent, the compatibility layers and the CLI), bundled by esbuild, beside MQTT.js bundled the same
    way (everything exported; and what a publishing and subscribing app imports, tree-shaken).
 */
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

async function size(label: string, entries: string[], contents?: string): Promise<{ label: string, min: number, gz: number }> {
    const result = await build({
        stdin: { contents: contents ?? entries.map(e => `export * from './dist/${e}'`).join('\n'), resolveDir: root, loader: 'js' },
        bundle: true, minify: true, format: 'esm', platform: 'node', write: false, logLevel: 'silent',
    })
    const code = result.outputFiles[0].contents
    return { label, min: code.length, gz: gzipSync(code, { level: 9 }).length }
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
const rows = [
    await size('runtime', ['runtime/index.js']),
    await size('socket (with runtime)', ['socket/index.js']),
    await size('mqtt client + codec (with runtime, socket)', ['mqtt/index.js']),
    await size('runtime + socket + mqtt', ['runtime/index.js', 'socket/index.js', 'mqtt/index.js']),
    await size('agent (extra)', ['runtime/index.js', 'socket/index.js', 'mqtt/index.js', 'mqtt/agent/index.js']),
]
/* What an app that connects, publishes and subscribes imports: the rest is shaken out */
const app = [
    await size('app: connect, publish, subscribe (fiber-mqtt)', [], `import { mqttAlloc, mqttConnectUrl, mqttPublish, mqttSubscribe } from './dist/mqtt/index.js'
        import { rInit, rServiceEvents } from './dist/runtime/index.js'
        export default [mqttAlloc, mqttConnectUrl, mqttPublish, mqttSubscribe, rInit, rServiceEvents]`),
    await size('app: connect, publish, subscribe (MQTT.js)', [], `import mqtt from 'mqtt'\nexport default mqtt.connect`),
]
const mqttjs = await size('MQTT.js (everything exported)', [], `export * from 'mqtt'`)
rows.push(...app, mqttjs)
for (const r of rows) {
    console.log(`${r.label.padEnd(46)} ${kb(r.min).padStart(9)} minified ${kb(r.gz).padStart(8)} gzipped`)
}
const total = rows[3].gz
console.log(`\nruntime + socket + mqtt: ${kb(total)} minified+gzipped; MQTT.js ${kb(mqttjs.gz)}: 1/${(mqttjs.gz / total).toFixed(1)} (target <= 1/5)`)
console.log(`an app's bundle: ${kb(app[0].gz)} against MQTT.js's ${kb(app[1].gz)}: 1/${(app[1].gz / app[0].gz).toFixed(1)}`)
