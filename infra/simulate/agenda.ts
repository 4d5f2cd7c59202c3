// The simulation's clock: events in time order.

type Event = { at: number; order: number; run: () => void };

/** A time-ordered event list; events at the same time run in the order they were scheduled. */
export class Agenda {
  private readonly events: Event[] = [];
  private order = 0;

  at(at: number, run: () => void): void {
    const event = { at, order: this.order++, run };
    let i = this.events.length;
    while (i > 0 && this.later(this.events[i - 1] as Event, event)) i--;
    this.events.splice(i, 0, event);
  }

  /** The earliest event, if it is due before `end`. */
  nextBefore(end: number): Event | undefined {
    return (this.events[0]?.at ?? Infinity) < end ? this.events.shift() : undefined;
  }

  private later(a: Event, b: Event): boolean {
    return a.at > b.at || (a.at === b.at && a.order > b.order);
  }
}
