/*
    Mongoose's json_printf conventions, for mgos_mqtt_pubf: %Q a quoted JSON string, %B a boolean, the rest as printf.
 */
import { sfmt } from '../runtime/sfmt.js'

/**
    json_printf: %Q (JSON string), %B (true/false), %M/%H unsupported; bare keys become quoted.
    @example jsonPrintf('{on: %B, name: %Q}', [true, 'kitchen'])   // '{"on": true, "name": "kitchen"}'
 */
export function jsonPrintf(fmt: string, args: unknown[]): string {
    let i = 0
    const expanded = fmt.replace(/%([-+ #0]*\d*(?:\.\d+)?[hlLzjt]*[a-zA-Z%])/g, spec => {
        const type = spec[spec.length - 1]
        if (type === '%') return '%'
        const value = args[i++]
        if (type === 'Q') return JSON.stringify(value === null || value === undefined ? null : String(value))
        if (type === 'B') return value ? 'true' : 'false'
        return sfmt(spec, value)
    })
    /* {temp: 1} -> {"temp": 1}, as json_printf writes keys */
    return expanded.replace(/([{,]\s*)([A-Za-z_][\w]*)\s*:/g, '$1"$2":')
}
