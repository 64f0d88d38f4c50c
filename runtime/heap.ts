/*
    A binary min-heap ordered by (due, seq), with each entry's index kept so that removal is O(log n).
    Equal due times come out in insertion order (seq), as Ioto's event queue does.
 */
export interface HeapEntry {
    due: number
    seq: number
    index: number
}

export class TimerHeap<T extends HeapEntry> {
    private items: T[] = []
    private seq = 0

    get size(): number {
        return this.items.length
    }

    peek(): T | undefined {
        return this.items[0]
    }

    insert(entry: T, due: number): void {
        entry.due = due
        entry.seq = this.seq++
        entry.index = this.items.length
        this.items.push(entry)
        this.up(entry.index)
    }

    pop(): T | undefined {
        const items = this.items
        if (items.length === 0) {
            return undefined
        }
        const top = items[0]
        this.removeAt(0)
        return top
    }

    remove(entry: T): boolean {
        const i = entry.index
        if (i < 0 || this.items[i] !== entry) {
            return false
        }
        this.removeAt(i)
        return true
    }

    has(entry: T): boolean {
        return entry.index >= 0 && this.items[entry.index] === entry
    }

    clear(): T[] {
        const all = this.items
        this.items = []
        for (const e of all) {
            e.index = -1
        }
        return all
    }

    private removeAt(i: number): void {
        const items = this.items
        const entry = items[i]
        const last = items.pop()!
        entry.index = -1
        if (i < items.length) {
            items[i] = last
            last.index = i
            this.down(i)
            this.up(last.index)
        }
    }

    private less(a: T, b: T): boolean {
        return a.due < b.due || (a.due === b.due && a.seq < b.seq)
    }

    private up(i: number): void {
        const items = this.items
        const entry = items[i]
        while (i > 0) {
            const parent = (i - 1) >> 1
            const p = items[parent]
            if (!this.less(entry, p)) {
                break
            }
            items[i] = p
            p.index = i
            i = parent
        }
        items[i] = entry
        entry.index = i
    }

    private down(i: number): void {
        const items = this.items
        const n = items.length
        const entry = items[i]
        for (;;) {
            let child = 2 * i + 1
            if (child >= n) {
                break
            }
            if (child + 1 < n && this.less(items[child + 1], items[child])) {
                child++
            }
            const c = items[child]
            if (!this.less(c, entry)) {
                break
            }
            items[i] = c
            c.index = i
            i = child
        }
        items[i] = entry
        entry.index = i
    }
}
