import { randomBytes } from 'node:crypto';
import { claimWriterSlot } from './writer-slot';

describe('writer slots', () => {
  it('gives processes running at once different ids, and a freed slot to the next claim', async () => {
    const prefix = `orientdb:2424/t_${randomBytes(4).toString('hex')}`;
    const first = await claimWriterSlot(prefix, 'host-a');
    const second = await claimWriterSlot(prefix, 'host-a');
    expect([first.writerId, second.writerId]).toEqual(['host-a-0', 'host-a-1']);
    // another database: slots of its own
    const elsewhere = await claimWriterSlot(`${prefix}_other`, 'host-a');
    expect(elsewhere.writerId).toBe('host-a-0');
    await elsewhere.release();
    await first.release();
    // a restarted archiver: the slot its predecessor held is free again
    const third = await claimWriterSlot(prefix, 'host-a');
    expect(third.writerId).toBe('host-a-0');
    await Promise.all([second.release(), third.release()]);
  });
});
