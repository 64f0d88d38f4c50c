/*
    -D / --property: mosquitto_pub / mosquitto_sub's MQTT 5 properties, "-D command name value" (a user property
    takes "name key value"). The command is the packet that carries the property (connect, publish, subscribe,
    unsubscribe, disconnect, will); names, the packets each may go in, number ranges and error texts are
    mosquitto's. Values are then checked as the client will send them ("Error in PUBLISH properties: ..."), so a
    value the spec forbids is refused here rather than by the broker.
 */
import { PROPERTY_DEFS, propertiesSize, type Properties, type PropertyPlace } from '../mqtt/codec/properties.js'

export class PropertyError extends Error {}

/** The properties given with -D, by the packet that carries them */
export interface CliProperties {
    connect: Properties
    publish: Properties
    subscribe: Properties
    unsubscribe: Properties
    disconnect: Properties
    will: Properties
}

export function noProperties(): CliProperties {
    return { connect: {}, publish: {}, subscribe: {}, unsubscribe: {}, disconnect: {}, will: {} }
}

/* mosquitto's command names: the ones -D takes, and those it knows but refuses */
const COMMANDS = ['connect', 'publish', 'subscribe', 'unsubscribe', 'disconnect', 'will']
const REFUSED = ['auth', 'connack', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'suback', 'unsuback']

/* mosquitto's property name for each of the codec's */
function cliName(name: string): string {
    if (name === 'subscriptionIdentifiers') return 'subscription-identifier'
    if (name === 'userProperties') return 'user-property'
    return name.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)
}

const BY_CLI_NAME = new Map(PROPERTY_DEFS.map(d => [cliName(d.name), d]))

const MAX = { byte: 255, two: 65535, four: 4_294_967_295, varint: 4_294_967_295 } as const

/* C's atol: leading blanks, a sign, digits; anything else ends the number (0 when none) */
function atol(s: string): number {
    const m = /^\s*([+-]?\d+)/.exec(s)
    return m === null ? 0 : Number(m[1])
}

/**
    Parse one -D at argv[i] (the command's index); returns the index of its last value.
    @example i = parseProperty(argv, i + 1, props)
 */
export function parseProperty(argv: string[], i: number, props: CliProperties): number {
    if (i + 2 > argv.length - 1) {
        throw new PropertyError('--property argument given but not enough arguments specified.')
    }
    const command = argv[i].toLowerCase()
    if (!COMMANDS.includes(command) && !REFUSED.includes(command)) {
        throw new PropertyError('Invalid command given in --property argument.')
    }
    const name = argv[i + 1]
    const d = BY_CLI_NAME.get(name.toLowerCase())
    if (d === undefined) {
        throw new PropertyError('Invalid property name given in --property argument.')
    }
    const place = command.toUpperCase() as PropertyPlace
    if (!d.places.includes(place)) {
        throw new PropertyError(`${name} property not allowed for ${argv[i]} in --property argument.`)
    }
    let key = ''
    let value: string
    let last: number
    if (d.kind === 'pair') {
        if (i + 3 > argv.length - 1) {
            throw new PropertyError('--property argument given but not enough arguments specified.')
        }
        key = argv[i + 2]
        value = argv[i + 3]
        last = i + 3
    } else {
        value = argv[i + 2]
        last = i + 2
    }
    if (REFUSED.includes(command) || (command === 'publish' && d.name === 'subscriptionIdentifiers') ||
        (command === 'subscribe' && d.name !== 'subscriptionIdentifiers' && d.name !== 'userProperties')) {
        throw new PropertyError(`${name} property not supported for ${argv[i]} in --property argument.`)
    }
    const list = props[command as keyof CliProperties] as Record<string, unknown>
    switch (d.kind) {
    case 'byte': case 'two': case 'four': case 'varint': {
        const n = atol(value)
        if (n < 0 || n > MAX[d.kind]) {
            throw new PropertyError(`Property value (${n}) out of range for property ${name}.`)
        }
        if (d.name === 'subscriptionIdentifiers') {
            list[d.name] = [...(list[d.name] as number[] | undefined) ?? [], n]
        } else {
            duplicate(list, d.name, command)
            list[d.name] = n
        }
        break
    }
    case 'binary':
        if (Buffer.byteLength(value) > 65535) {
            throw new PropertyError(`Property value too long for property ${name}.`)
        }
        duplicate(list, d.name, command)
        list[d.name] = new Uint8Array(Buffer.from(value))
        break
    case 'string':
        duplicate(list, d.name, command)
        list[d.name] = value
        break
    default:
        list[d.name] = [...(list[d.name] as [string, string][] | undefined) ?? [], [key, value]]
    }
    return last
}

function duplicate(list: Record<string, unknown>, name: string, command: string): void {
    if (list[name] !== undefined) {
        throw new PropertyError(`Error in ${command === 'will' ? 'Will' : command.toUpperCase()} properties: Duplicate property in property list`)
    }
}

/** Check every list as the client will encode it (values the spec forbids, more than one subscription identifier). */
export function checkProperties(props: CliProperties): void {
    for (const command of COMMANDS) {
        const list = props[command as keyof CliProperties]
        const what = command === 'will' ? 'Will' : command.toUpperCase()
        if (command === 'subscribe' && (list.subscriptionIdentifiers?.length ?? 0) > 1) {
            throw new PropertyError(`Error in ${what} properties: Duplicate property in property list`)
        }
        try {
            propertiesSize(list, command === 'will' ? 'WILL' : command.toUpperCase() as PropertyPlace)
        } catch (err) {
            throw new PropertyError(`Error in ${what} properties: ${(err as Error).message}`)
        }
    }
}
