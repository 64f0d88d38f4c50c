/*
    The package as its users get it: `npm pack`, installed into a scratch TypeScript project (moduleResolution
    node16), an app type-checked against every entry point, the README's complete snippets type-checked as
    files of that project, and the CLI run from the installed package.
 */
import test from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { quietLogs } from './helpers/quiet.js'

quietLogs(test)

const root = fileURLToPath(new URL('../../', import.meta.url))
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')

/** The README's ```ts blocks that are complete files (those marked "ts fragment" are excerpts). */
export function readmeSnippets(): string[] {
    const text = readFileSync(join(root, 'README.md'), 'utf8')
    return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map(m => m[1])
}

test('npm pack: the tarball installs, every entry point type-checks (node16), the README snippets compile, the CLI runs', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'fiber-mqtt-pack-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    /* dist is built by npm test; prepack would build it again */
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }))
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path)
    for (const needed of ['LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/bin/fiber-mqtt.js', 'dist/bin/args.js', 'dist/bin/bench/index.js',
        'dist/mqtt/url.js', 'dist/mqtt/agent/index.d.ts', 'dist/mqtt/promise.js', 'dist/mqtt/mongoose.js']) {
        t.true(files.includes(needed), needed)
    }
    t.false(files.some(f => f.startsWith('dist/test/') || f.startsWith('dist/bench/') || f.endsWith('.ts') && !f.endsWith('.d.ts')))
    /* Source maps carry their sources (no dangling paths to .ts files that are not shipped) */
    const map = JSON.parse(readFileSync(join(root, 'dist/mqtt/url.js.map'), 'utf8'))
    t.is(map.sourcesContent?.length, map.sources.length)

    const app = join(dir, 'app')
    mkdirSync(join(app, 'src'), { recursive: true })
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', version: '1.0.0', type: 'module', private: true }))
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dir, packed[0].filename)], { cwd: app, encoding: 'utf8' })
    t.is(install.status, 0, install.stderr)
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
            target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, skipLibCheck: false,
            types: ['node'], typeRoots: [join(root, 'node_modules', '@types')], lib: ['ES2022'],
        },
        include: ['src'],
    }))
    writeFileSync(join(app, 'src', 'entries.ts'), `
import { mqttAlloc, mqttPublish, ioAgent, rInit, MQTT_WAIT_NONE, type Fiber, type Mqtt } from 'fiber-mqtt'
import { rSleep, sfmt } from 'fiber-mqtt/runtime'
import { rAllocSocket, rSetTlsServerName } from 'fiber-mqtt/socket'
import { mqttSubscribeMulti, parseMqttUrl, MQTT_LIMITS_IOTO } from 'fiber-mqtt/mqtt'
import { FileStore, StoreError, type AgentHooks } from 'fiber-mqtt/agent'
import { mgos_mqtt_pub } from 'fiber-mqtt/mongoose'
import { mqttPublishAsync, mqttConnectUrlAsync } from 'fiber-mqtt/promise'

export function* app(): Fiber<number> {
    const mq: Mqtt | null = mqttAlloc('scratch', null)
    yield* rSleep(1)
    rSetTlsServerName(rAllocSocket(), 'broker.example.com')
    const hooks: AgentHooks = { ioStop: () => undefined }
    void [ioAgent, rInit, sfmt('%d', 1), mqttSubscribeMulti, parseMqttUrl('mqtt://h').port, MQTT_LIMITS_IOTO.clientId,
        FileStore, StoreError, hooks, mgos_mqtt_pub, mqttPublishAsync, mqttConnectUrlAsync]
    return yield* mqttPublish(mq, 'x', 0, 1, MQTT_WAIT_NONE, 'a/b')
}
`)
    const snippets = readmeSnippets()
    t.true(snippets.length >= 3)
    snippets.forEach((s, i) => writeFileSync(join(app, 'src', `readme-${i + 1}.ts`), s.includes('export ') || s.includes('import ') ? s : `${s}\nexport {}\n`))
    const check = spawnSync(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { cwd: app, encoding: 'utf8' })
    t.is(check.status, 0, `${check.stdout}${check.stderr}`)

    const npx = spawnSync('npx', ['--no-install', 'fiber-mqtt', '--help'], { cwd: app, encoding: 'utf8' })
    t.regex(npx.stdout, /Usage: fiber-mqtt pub \{/)
    t.regex(npx.stdout, /Usage: fiber-mqtt sub \{/)
    t.is(npx.status, 1)
    const pub = spawnSync(join(app, 'node_modules', '.bin', 'fiber-mqtt'), ['pub', '-h', '127.0.0.1', '-p', '1', '-t', 'a', '-m', 'x'], { cwd: app, encoding: 'utf8' })
    t.regex(pub.stderr, /Error: Connection refused/)
    t.is(pub.status, 1)
    /* The load generator from the installed package, its workers forked from there too */
    const bench = spawnSync(join(app, 'node_modules', '.bin', 'fiber-mqtt'), ['bench', 'conn', '-h', '127.0.0.1', '-p', '1', '-c', '2', '-i', '0', '-d', '1', '-w', '2', '--json'],
        { cwd: app, encoding: 'utf8', timeout: 30_000 })
    t.is(bench.status, 0, bench.stderr)
    t.like(JSON.parse(bench.stdout), { connects: 0, failures: 2, workers: 2, errors: { 'connection refused': 2 } })
})
