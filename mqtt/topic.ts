/*
    Topic names and filters: validation and matching per MQTT 3.1.1 section 4.7. Levels are split on '/';
    empty levels are levels; '+' matches one level, '#' (last) the parent and every level below; topics
    starting with '$' are not matched by a filter starting with a wildcard [MQTT-4.7.2-1]. Case-sensitive.
 */
import { utf8Length } from './codec/utf8.js'

export interface TopicProblem {
    rule: string
    message: string
}

const MAX_BYTES = 65535

function common(s: unknown, what: string): TopicProblem | null {
    if (typeof s !== 'string' || s.length === 0) {
        return { rule: '[MQTT-4.7.3-1]', message: `A ${what} must be at least one character long` }
    }
    const len = utf8Length(s)
    if (len < 0) {
        return { rule: s.includes('\u0000') ? '[MQTT-4.7.3-2]' : '[MQTT-1.5.3-1]', message: `A ${what} must be well-formed UTF-8 without U+0000` }
    }
    if (len > MAX_BYTES) {
        return { rule: '[MQTT-4.7.3-3]', message: `A ${what} must not be longer than 65,535 bytes` }
    }
    return null
}

/**
    Why `name` cannot be a topic name (for PUBLISH), or null when it can.
    @example const problem = topicNameProblem('a/+/b'); if (problem) rError('app', '%s', problem.message)
 */
export function topicNameProblem(name: unknown): TopicProblem | null {
    const problem = common(name, 'topic name')
    if (problem !== null) {
        return problem
    }
    if ((name as string).includes('+') || (name as string).includes('#')) {
        return { rule: '[MQTT-3.3.2-2]', message: 'A topic name must not contain wildcards' }
    }
    return null
}

/**
    Why `filter` cannot be a topic filter (for SUBSCRIBE / UNSUBSCRIBE), or null when it can.
    @example topicFilterProblem('a/#/b')   // { rule: '[MQTT-4.7.1-2]', message: 'A "#" wildcard must be last and alone in its level' }
 */
export function topicFilterProblem(filter: unknown): TopicProblem | null {
    const problem = common(filter, 'topic filter')
    if (problem !== null) {
        return problem
    }
    const f = filter as string
    for (let i = 0; i < f.length; i++) {
        const c = f.charCodeAt(i)
        if (c === 0x23 /* # */) {
            if (i !== f.length - 1 || (i > 0 && f.charCodeAt(i - 1) !== 0x2f)) {
                return { rule: '[MQTT-4.7.1-2]', message: 'A "#" wildcard must be last and alone in its level' }
            }
        } else if (c === 0x2b /* + */) {
            if ((i > 0 && f.charCodeAt(i - 1) !== 0x2f) || (i < f.length - 1 && f.charCodeAt(i + 1) !== 0x2f)) {
                return { rule: '[MQTT-4.7.1-3]', message: 'A "+" wildcard must occupy a whole level' }
            }
        }
    }
    return null
}

/**
    Whether `name` is a valid PUBLISH topic name (no wildcards, well-formed UTF-8, 1..65,535 bytes).
    @example isValidTopicName('devices/d1/temp')   // true; 'devices/+/temp' is false
 */
export function isValidTopicName(name: unknown): boolean {
    return topicNameProblem(name) === null
}

/**
    Whether `filter` is a valid SUBSCRIBE topic filter.
    @example isValidTopicFilter('devices/+/temp')   // true; 'a/#/b' is false
 */
export function isValidTopicFilter(filter: unknown): boolean {
    return topicFilterProblem(filter) === null
}

/**
    Whether a topic name matches a filter.
    @example topicMatches('sensor/+/temp', 'sensor/dev1/temp') // true
    @example topicMatches('#', '$SYS/uptime')                    // false [MQTT-4.7.2-1]
 */
export function topicMatches(filter: string, topic: string): boolean {
    if (topic.charCodeAt(0) === 0x24 /* $ */ && (filter.charCodeAt(0) === 0x2b || filter.charCodeAt(0) === 0x23)) {
        return false
    }
    const f = filter.split('/')
    const t = topic.split('/')
    for (let i = 0; i < f.length; i++) {
        const level = f[i]
        if (level === '#') {
            return true
        }
        if (i >= t.length) {
            return false
        }
        if (level !== '+' && level !== t[i]) {
            return false
        }
    }
    return f.length === t.length
}

/**
    Whether every topic that `filter` matches is also matched by `master` (so a broker subscription to
    `master` delivers everything `filter` wants). Compared level by level.
    @example filterCovers('dev/ABC/#', 'dev/ABC/cmd/+') // true
    @example filterCovers('dev/+', 'dev/123/status')     // false: dev/+ delivers one level only
 */
export function filterCovers(master: string, filter: string): boolean {
    const m = master.split('/')
    const f = filter.split('/')
    for (let i = 0; i < m.length; i++) {
        const level = m[i]
        if (level === '#') {
            return !(i === 0 && filter.charCodeAt(0) === 0x24)
        }
        if (i >= f.length) {
            return false
        }
        if (level === '+') {
            if (f[i] === '#' || (i === 0 && f[i].charCodeAt(0) === 0x24)) {
                return false
            }
        } else if (level !== f[i]) {
            return false
        }
    }
    return m.length === f.length
}

/**
    Whether `filter` lies under `prefix` by whole levels ("a/b" is under "a", "ab/c" is not).
    @example isUnderPrefix('ioto/device/d1/cmd', 'ioto/device/d1')   // true
 */
export function isUnderPrefix(filter: string, prefix: string): boolean {
    return filter === prefix || (filter.startsWith(prefix) && filter.charCodeAt(prefix.length) === 0x2f) || prefix === ''
}
