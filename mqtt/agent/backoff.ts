/*
    Reconnect backoff as Mongoose OS does it: from the minimum interval, doubling after each failure, up to the
    maximum; once an attempt at the maximum fails it is time to fail over (and start from the minimum again).
    Each wait takes a random 0-25% off the interval, so that a fleet does not reconnect in step.
    @example const b = new Backoff(2000, 60_000); const { wait } = b.next(); yield* rSleep(wait)
 */
export class Backoff {
    /** The current interval (0 before the first failure) */
    interval = 0

    constructor(readonly min: number, readonly max: number, private readonly random: () => number = Math.random) {}

    /**
        After a failed attempt: how long to wait, and whether to fail over (the interval had reached the maximum
        and there is somewhere to go; otherwise the interval stays at the maximum).
     */
    next(canFailover = true): { wait: number, failover: boolean } {
        const failover = canFailover && this.interval >= this.max
        this.interval = failover || this.interval === 0 ? this.min : Math.min(this.interval * 2, this.max)
        return { wait: Math.round(this.interval * (1 - 0.25 * this.random())), failover }
    }

    reset(): void {
        this.interval = 0
    }
}
