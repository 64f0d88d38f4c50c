/*
    The live fibers: an intrusive list through the fibers themselves (no Set entry per fiber), and the counts
    rGetFiberStats reports. The scheduler adds a fiber when it is allocated and removes it when it finishes.
 */
import type { RFiber } from './scheduler.js'

let liveHead: RFiber | null = null
let active = 0
let peak = 0
let total = 0

export function addLive(f: RFiber): void {
    f.lnext = liveHead
    if (liveHead !== null) {
        liveHead.lprev = f
    }
    liveHead = f
    total++
    if (++active > peak) {
        peak = active
    }
}

export function removeLive(f: RFiber): void {
    if (f.lprev !== null) {
        f.lprev.lnext = f.lnext
    } else if (liveHead === f) {
        liveHead = f.lnext
    }
    if (f.lnext !== null) {
        f.lnext.lprev = f.lprev
    }
    f.lprev = f.lnext = null
    active--
}

/**
    Fiber counts: live now, the most live at once, and all ever allocated.
    @example const { active, peak } = rGetFiberStats()
 */
export function rGetFiberStats(): { active: number, peak: number, total: number } {
    return { active, peak, total }
}

/** Every live fiber (for rTerm). */
export function liveFibers(): RFiber[] {
    const list: RFiber[] = []
    for (let f = liveHead; f !== null; f = f.lnext) {
        list.push(f)
    }
    return list
}

