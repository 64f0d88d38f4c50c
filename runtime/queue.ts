const EMPTY: unknown[] = []

/*
    A ring-buffer FIFO that grows by doubling: no shift() copies, no per-item allocation.
 */
export class RingQueue<T> {
    private items: (T | undefined)[]
    private head = 0
    private count = 0
    private mask: number

    private readonly initial: number

    /** capacity: a power of two; the array is allocated on the first push */
    constructor(capacity = 64) {
        this.items = EMPTY as (T | undefined)[]
        this.mask = -1
        this.initial = capacity
    }

    get length(): number {
        return this.count
    }

    push(item: T): void {
        if (this.count > this.mask) {
            this.grow()
        }
        this.items[(this.head + this.count) & this.mask] = item
        this.count++
    }

    shift(): T | undefined {
        if (this.count === 0) {
            return undefined
        }
        const head = this.head
        const item = this.items[head]
        this.items[head] = undefined
        this.head = (head + 1) & this.mask
        this.count--
        return item
    }

    peek(): T | undefined {
        return this.count === 0 ? undefined : this.items[this.head]
    }

    /** Remove the first occurrence of item (O(n)); true when found. */
    remove(item: T): boolean {
        const mask = this.items.length - 1
        for (let i = 0; i < this.count; i++) {
            if (this.items[(this.head + i) & mask] === item) {
                for (let j = i; j < this.count - 1; j++) {
                    this.items[(this.head + j) & mask] = this.items[(this.head + j + 1) & mask]
                }
                this.items[(this.head + this.count - 1) & mask] = undefined
                this.count--
                return true
            }
        }
        return false
    }

    clear(): void {
        if (this.count > 0) {
            this.items.fill(undefined)
        }
        this.head = 0
        this.count = 0
    }

    private grow(): void {
        const old = this.items
        const items = new Array(old.length === 0 ? this.initial : old.length * 2).fill(undefined)
        for (let i = 0; i < this.count; i++) {
            items[i] = old[(this.head + i) & this.mask]
        }
        this.items = items
        this.mask = items.length - 1
        this.head = 0
    }
}
