/*
    The test broker's start-up: a port taken between its choice and mosquitto's bind starts mosquitto again on
    fresh ports; a broker that cannot start says why, in mosquitto's words; a broker ends with the process that
    started it, even one killed at once.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { fileURLToPath } from 'node:url'
import { mosquittoPath, startMosquitto } from '../brokers/broker.js'

function listen(): Promise<{ server: Server, port: number }> {
    return new Promise((resolve, reject) => {
        const server = createServer(s => s.destroy())
        server.on('error', reject)
        server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }))
    })
}

if (mosquittoPath() !== null) {
    test('a port taken before mosquitto binds it: mosquitto starts again on ports chosen afresh', async t => {
        const taken = await listen()
        const seen: number[][] = []
        try {
            /* The first configuration's extra listener is on the taken port, as if another process took it */
            const b = await startMosquitto({ extraPorts: 1, extra: ports => {
                seen.push(ports)
                return [`listener ${seen.length === 1 ? taken.port : ports[0]} 127.0.0.1`, 'allow_anonymous true']
            } })
            try {
                t.is(seen.length, 2)
                t.not(b.extraPorts[0], taken.port)
                t.deepEqual(b.extraPorts, seen[1])
                t.is(b.process.exitCode, null)
            } finally {
                await b.stop()
            }
        } finally {
            taken.server.close()
        }
    })

    test('a broker that cannot start: the error carries what mosquitto said, after three tries for a taken port', async t => {
        const taken = await listen()
        let calls = 0
        try {
            const err = await t.throwsAsync(startMosquitto({ extra: () => {
                calls++
                return [`listener ${taken.port} 127.0.0.1`]
            } }))
            t.regex(err!.message, /^broker exited with code \d+: .*address already in use/is)
            t.is(calls, 3)
            const bad = await t.throwsAsync(startMosquitto({ extra: ['no_such_option 1'] }))
            t.regex(bad!.message, /^broker exited with code \d+: .*no_such_option/s)
        } finally {
            taken.server.close()
        }
    })

    test('mosquitto ends when the process that started it is killed with SIGKILL; stopped as usual, its guard ends with it', async t => {
        const holder = spawn(process.execPath, [fileURLToPath(new URL('./helpers/broker-holder.js', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] })
        let out = '', err = ''
        holder.stdout.on('data', (d: Buffer) => { out += d.toString() })
        holder.stderr.on('data', (d: Buffer) => { err += d.toString() })
        let pid = 0
        try {
            for (let waited = 0; waited < 20_000 && pid === 0; waited += 50) {
                pid = Number(/broker (\d+)/.exec(out)?.[1] ?? 0)
                await new Promise(r => setTimeout(r, 50))
            }
            t.true(pid > 0, `the holder did not start a broker: ${out} ${err}`)
            t.true(alive(pid))
            holder.kill('SIGKILL')
            let gone = false
            for (let waited = 0; waited < 15_000 && !gone; waited += 100) {
                await new Promise(r => setTimeout(r, 100))
                gone = !alive(pid)
            }
            t.true(gone, 'mosquitto still runs after its parent was killed')
        } finally {
            holder.kill('SIGKILL')
            if (pid > 0 && alive(pid)) {
                process.kill(pid, 'SIGKILL')
            }
        }
        /* Stopped as usual: mosquitto and its guard both end, and nothing is left to this process */
        const b = await startMosquitto()
        const mine = () => guards().filter(g => g.includes(` ${b.process.pid};`))
        t.is(mine().length, 1)
        await b.stop()
        let left = mine()
        for (let waited = 0; waited < 5000 && left.length > 0; waited += 100) {
            await new Promise(r => setTimeout(r, 100))
            left = mine()
        }
        t.deepEqual(left, [])
    })
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch {
        return false
    }
}

/* The command lines of this machine's guard shells (Linux /proc) */
function guards(): string[] {
    const lines: string[] = []
    for (const pid of readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
        try {
            lines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '))
        } catch {
            /* ended meanwhile */
        }
    }
    return lines.filter(l => l.startsWith('sh -c while kill -0 '))
}
