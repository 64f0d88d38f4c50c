/*
    A subscription index: a trie by topic level that finds the subscriptions matching a topic name, in the
    order they were added. Built for many subscriptions (10,000 filters match in microseconds).
    @example const e = index.add('devices/+/temp', onTemp); index.remove(e)
 */
export class TopicEntry<T> {
    constructor(readonly filter: string, readonly value: T, readonly seq: number, readonly node: TrieNode<T>, readonly hash: boolean) {}
}

class TrieNode<T> {
    children: Map<string, TrieNode<T>> | null = null
    plus: TrieNode<T> | null = null
    /** Filters ending here */
    entries: TopicEntry<T>[] | null = null
    /** Filters ending here with "/#" (or "#" at the root) */
    hash: TopicEntry<T>[] | null = null
    constructor(readonly parent: TrieNode<T> | null, readonly level: string) {}
}

/**
    A subscription index (a trie by topic level): the matches of a topic, in order of subscription.
    @example const index = new TopicIndex<Handler>(); index.add('a/+/c', h); for (const e of index.match('a/b/c')) e.value(msg)
 */
export class TopicIndex<T> {
    private root = new TrieNode<T>(null, '')
    private seq = 0
    private count = 0

    get size(): number {
        return this.count
    }

    /**
        Add a subscription; returns its entry (pass it to remove). The filter must be valid. A shared subscription
        ($share/group/filter) matches as its filter does: messages arrive on their own topics [MQTT5-4.8.2].
     */
    add(filter: string, value: T): TopicEntry<T> {
        const { levels, hash } = levelsOf(filter)
        let node = this.root
        for (const level of levels) {
            if (level === '+') {
                node = node.plus ??= new TrieNode(node, '+')
            } else {
                node.children ??= new Map()
                let child = node.children.get(level)
                if (child === undefined) {
                    child = new TrieNode(node, level)
                    node.children.set(level, child)
                }
                node = child
            }
        }
        const entry = new TopicEntry(filter, value, this.seq++, node, hash)
        if (hash) {
            (node.hash ??= []).push(entry)
        } else {
            (node.entries ??= []).push(entry)
        }
        this.count++
        return entry
    }

    /** The entries added with exactly this filter, earliest first: found by its levels, not by a scan. */
    withFilter(filter: string): TopicEntry<T>[] {
        const { levels, hash } = levelsOf(filter)
        let node: TrieNode<T> | null | undefined = this.root
        for (let i = 0; i < levels.length && node; i++) {
            node = levels[i] === '+' ? node.plus : node.children?.get(levels[i])
        }
        return (node ? (hash ? node.hash : node.entries) : null)?.filter(e => e.filter === filter) ?? []
    }

    /** Remove one subscription; true when it was present. */
    remove(entry: TopicEntry<T>): boolean {
        const list = entry.hash ? entry.node.hash : entry.node.entries
        const i = list ? list.indexOf(entry) : -1
        if (i < 0) {
            return false
        }
        list!.splice(i, 1)
        this.count--
        this.prune(entry.node)
        return true
    }

    /** Every subscription whose filter matches the topic, earliest first. */
    match(topic: string): TopicEntry<T>[] {
        const out: TopicEntry<T>[] = []
        this.walk(this.root, topic.split('/'), 0, topic.charCodeAt(0) === 0x24, out, false)
        return out.length > 1 ? out.sort((a, b) => a.seq - b.seq) : out
    }

    /** The earliest subscription whose filter matches the topic. */
    first(topic: string): TopicEntry<T> | undefined {
        const out: TopicEntry<T>[] = []
        this.walk(this.root, topic.split('/'), 0, topic.charCodeAt(0) === 0x24, out, true)
        return out[0]
    }

    /** Every entry in subscription order. */
    all(): TopicEntry<T>[] {
        const out: TopicEntry<T>[] = []
        const visit = (node: TrieNode<T>) => {
            if (node.entries) out.push(...node.entries)
            if (node.hash) out.push(...node.hash)
            if (node.plus) visit(node.plus)
            node.children?.forEach(visit)
        }
        visit(this.root)
        return out.sort((a, b) => a.seq - b.seq)
    }

    clear(): void {
        this.root = new TrieNode<T>(null, '')
        this.count = 0
    }

    private walk(node: TrieNode<T>, levels: string[], depth: number, dollar: boolean, out: TopicEntry<T>[], firstOnly: boolean): void {
        /* A filter ending in "#" at this node matches this level and everything below [MQTT-4.7.1-2] */
        const wild = !(depth === 0 && dollar)
        if (node.hash !== null && node.hash.length && wild) {
            add(out, node.hash, firstOnly)
        }
        if (depth === levels.length) {
            if (node.entries !== null && node.entries.length) {
                add(out, node.entries, firstOnly)
            }
            return
        }
        const child = node.children?.get(levels[depth])
        if (child !== undefined) {
            this.walk(child, levels, depth + 1, dollar, out, firstOnly)
        }
        /* No leading wildcard matches a "$" topic [MQTT-4.7.2-1] */
        if (node.plus !== null && wild) {
            this.walk(node.plus, levels, depth + 1, dollar, out, firstOnly)
        }
    }

    private prune(node: TrieNode<T>): void {
        while (node.parent !== null && !node.entries?.length && !node.hash?.length && node.plus === null && !node.children?.size) {
            const parent = node.parent
            if (node.level === '+' && parent.plus === node) {
                parent.plus = null
            } else {
                parent.children?.delete(node.level)
            }
            node = parent
        }
    }
}

function add<T>(out: TopicEntry<T>[], list: TopicEntry<T>[], firstOnly: boolean): void {
    if (!firstOnly) {
        out.push(...list)
    } else if (out.length === 0 || list[0].seq < out[0].seq) {
        out[0] = list[0]
    }
}

/* A filter's trie levels: a shared subscription's "$share/group/" taken off, a last "#" taken off as `hash` */
function levelsOf(filter: string): { levels: string[], hash: boolean } {
    const levels = filter.split('/')
    if (levels[0] === '$share' && levels.length >= 3) {
        levels.splice(0, 2)
    }
    const hash = levels[levels.length - 1] === '#'
    if (hash) {
        levels.pop()
    }
    return { levels, hash }
}
