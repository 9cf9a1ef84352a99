import type { Broker, Tail } from '@mupets/broker';

/** The real broker's tail, counted: how many were opened, and which are open now. */
export interface CountedTails {
  tail: Broker['tail'];
  readonly open: Set<Tail>;
  opened(): number;
}

export function countTails(real: Pick<Broker, 'tail'>): CountedTails {
  const open = new Set<Tail>();
  let opened = 0;
  return {
    open,
    opened: () => opened,
    tail: (channel, options) => {
      const tail = real.tail(channel, options);
      opened++;
      open.add(tail);
      const close = tail.close.bind(tail);
      tail.close = async () => {
        open.delete(tail);
        await close();
      };
      return tail;
    },
  };
}
