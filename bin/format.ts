/*
    sub -F: mosquitto_sub's output format. % directives print a message's fields (with an optional '-' flag,
    width and, for numbers, '0' padding), @ directives the time (strftime), \ escapes a character:
        %t topic  %p payload  %l payload length  %m message id  %q QoS  %r retain  %x / %X payload in hex
        %j JSON   %J JSON with the payload as JSON   %I ISO-8601 time  %U Unix time with nanoseconds  %% %
        %A topic alias  %C content type  %D correlation data  %E message expiry  %F payload format
        %P user properties ("name:value" each)  %R response topic  %S subscription identifier (MQTT 5; empty in 3.1.1)
        @Y @m @d @H @M @S ... strftime conversions, @@ @   \n \t \r \v \a \e \0 \\
    Also the default (-v: "topic payload") and JSON outputs used without -F.
 */
import type { MqttRecv, Properties } from '../mqtt/index.js'
import { cjson, Entries } from './json.js'

const pad2 = (n: number) => String(n).padStart(2, '0')
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']

function offset(d: Date, colon = false): string {
    const m = -d.getTimezoneOffset()
    const a = Math.abs(m)
    return `${m < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}${colon ? ':' : ''}${pad2(a % 60)}`
}

/** strftime for one conversion character (local time, C locale). */
function strftime(c: string, d: Date): string {
    switch (c) {
    case 'Y': return String(d.getFullYear())
    case 'y': return pad2(d.getFullYear() % 100)
    case 'C': return pad2(Math.floor(d.getFullYear() / 100))
    case 'm': return pad2(d.getMonth() + 1)
    case 'd': return pad2(d.getDate())
    case 'e': return String(d.getDate()).padStart(2, ' ')
    case 'H': return pad2(d.getHours())
    case 'I': return pad2(d.getHours() % 12 || 12)
    case 'M': return pad2(d.getMinutes())
    case 'S': return pad2(d.getSeconds())
    case 'p': return d.getHours() < 12 ? 'AM' : 'PM'
    case 'j': return String(Math.floor((d.getTime() - new Date(d.getFullYear(), 0, 1).getTime()) / 86400000) + 1).padStart(3, '0')
    case 'a': return DAYS[d.getDay()].slice(0, 3)
    case 'A': return DAYS[d.getDay()]
    case 'b': case 'h': return MONTHS[d.getMonth()].slice(0, 3)
    case 'B': return MONTHS[d.getMonth()]
    case 'u': return String(d.getDay() || 7)
    case 'w': return String(d.getDay())
    case 's': return String(Math.floor(d.getTime() / 1000))
    case 'z': return offset(d)
    case 'Z': return Intl.DateTimeFormat('en', { timeZoneName: 'short' }).formatToParts(d).find(p => p.type === 'timeZoneName')?.value ?? ''
    case 'F': return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`
    case 'T': return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
    case 'R': return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`
    case 'D': return `${pad2(d.getMonth() + 1)}/${pad2(d.getDate())}/${pad2(d.getFullYear() % 100)}`
    case 'n': return '\n'
    case 't': return '\t'
    case '@': return '@'
    default: return `@${c}`
    }
}

/** The time as mosquitto's JSON "tst" field: "2026-12-01T00:38:36.017730Z+0000" (UTC with microseconds). */
function jsonTime(d: Date, micros: number): string {
    return `${d.toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z+0000`
}

function isoTime(d: Date): string {
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${offset(d)}`
}

/* Bytes as a C string: up to the first NUL */
function cString(b: Uint8Array): string {
    const end = b.indexOf(0)
    return Buffer.from(b.buffer, b.byteOffset, end < 0 ? b.length : end).toString()
}

/** A message's MQTT 5 properties as mosquitto_sub's JSON names them, in the order they came */
function jsonProperties(p: Properties): Entries {
    const out = new Entries()
    for (const [name, v] of Object.entries(p)) {
        switch (name) {
        case 'payloadFormatIndicator': out.add('payload-format-indicator', v); break
        case 'messageExpiryInterval': out.add('message-expiry-interval', v); break
        case 'contentType': out.add('content-type', v); break
        case 'responseTopic': out.add('response-topic', v); break
        case 'correlationData': out.add('correlation-data', cString(v as Uint8Array)); break
        case 'topicAlias': out.add('topic-alias', v); break
        case 'subscriptionIdentifiers': for (const id of v as number[]) out.add('subscription-identifier', id); break
        case 'userProperties': out.add('user-properties', new Entries((v as [string, string][]).map(([k, x]) => [k, x]))); break
        }
    }
    return out
}

/** The message as mosquitto_sub's JSON (%j; %J parses the payload as JSON where it is), with its MQTT 5 properties. */
export function jsonOf(rp: MqttRecv, now: Date, micros: number, parsePayload: boolean, pretty: boolean): string {
    const o = new Entries().add('tst', jsonTime(now, micros)).add('topic', rp.topic).add('qos', rp.qos).add('retain', rp.retain ? 1 : 0)
        .add('payloadlen', rp.dataSize)
    if (rp.qos > 0) {
        o.add('mid', rp.id)
    }
    if (rp.properties !== null && Object.keys(rp.properties).length > 0) {
        o.add('properties', jsonProperties(rp.properties))
    }
    let payload: unknown = cString(rp.data)
    if (parsePayload) {
        try {
            payload = JSON.parse(rp.text)
        } catch {
            /* not JSON: as a string */
        }
    }
    o.add('payload', payload)
    return cjson(o, pretty)
}

function hex(b: Uint8Array, upper: boolean): string {
    const s = Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex')
    return upper ? s.toUpperCase() : s
}

const ESCAPES: Record<string, string> = { a: '\x07', e: '\x1b', n: '\n', r: '\r', t: '\t', v: '\v', '0': '\0', '\\': '\\' }

/** Format one message. Returns bytes: the payload is written as received (not re-encoded). */
export function formatMessage(fmt: string, rp: MqttRecv, pretty = false, now = new Date()): Buffer {
    const parts: Buffer[] = []
    let text = ''
    const flushText = () => {
        if (text) {
            parts.push(Buffer.from(text))
            text = ''
        }
    }
    const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000) % 1000000
    const props = rp.properties
    for (let i = 0; i < fmt.length; i++) {
        const c = fmt[i]
        if (c === '\\' && i + 1 < fmt.length) {
            const e = ESCAPES[fmt[++i]]
            text += e ?? `\\${fmt[i]}`
        } else if (c === '@' && i + 1 < fmt.length) {
            text += strftime(fmt[++i], now)
        } else if (c === '%' && i + 1 < fmt.length) {
            let j = i + 1
            let left = false
            let zero = false
            while (fmt[j] === '-' || fmt[j] === '0') {
                if (fmt[j] === '-') left = true
                else zero = true
                j++
            }
            let width = 0
            while (j < fmt.length && fmt[j] >= '0' && fmt[j] <= '9') {
                width = width * 10 + Number(fmt[j++])
            }
            if (fmt[j] === '.') {
                j++
                while (j < fmt.length && fmt[j] >= '0' && fmt[j] <= '9') j++
            }
            const d = fmt[j]
            i = j
            const field = (s: string, numeric = false): void => {
                text += left ? s.padEnd(width) : s.padStart(width, zero && numeric ? '0' : ' ')
            }
            switch (d) {
            case '%': text += '%'; break
            case 't': field(rp.topic); break
            case 'l': field(String(rp.dataSize), true); break
            case 'm': field(String(rp.id), true); break
            /* As mosquitto_sub: no width for %q, %r, %I and %U */
            case 'q': text += String(rp.qos); break
            case 'r': text += rp.retain ? '1' : '0'; break
            case 'x': field(hex(rp.data, false)); break
            case 'X': field(hex(rp.data, true)); break
            case 'I': text += isoTime(now); break
            case 'U': text += (`${Math.floor(now.getTime() / 1000)}.${String(now.getTime() % 1000 * 1000000 + micros % 1000 * 1000).padStart(9, '0')}`); break
            case 'j': text += jsonOf(rp, now, micros, false, pretty); break
            case 'J': text += jsonOf(rp, now, micros, true, pretty); break
            case 'p':
                if (width > 0) {
                    field(rp.text)
                } else {
                    flushText()
                    parts.push(Buffer.from(rp.data.buffer, rp.data.byteOffset, rp.data.length))
                }
                break
            /* MQTT 5 properties (none in MQTT 3.1.1): numbers blank or padded when absent, as mosquitto_sub */
            case 'A': field(String(props?.topicAlias ?? ''), true); break
            case 'E': field(String(props?.messageExpiryInterval ?? ''), true); break
            case 'F': field(String(props?.payloadFormatIndicator ?? ''), true); break
            case 'S': field(String(props?.subscriptionIdentifiers?.[0] ?? ''), true); break
            case 'C': field(props?.contentType ?? ''); break
            case 'R': if (props?.responseTopic !== undefined) field(props.responseTopic); break
            case 'P': text += (props?.userProperties ?? []).map(([k, v]) => `${k}:${v}`).join(' '); break
            case 'D':
                if (props?.correlationData !== undefined) {
                    flushText()
                    parts.push(Buffer.from(props.correlationData))
                }
                break
            default:
                text += `%${d ?? ''}`
            }
        } else {
            text += c
        }
    }
    flushText()
    return Buffer.concat(parts)
}
