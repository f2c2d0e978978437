import { GroupCommit, type GroupMember } from './group-commit.js';

describe('GroupCommit', () => {
  /** A commit that records each group and resolves every member with its item doubled, once released. */
  function recording() {
    const groups: number[][] = [];
    let release!: () => void;
    let gate = new Promise<void>((resolve) => (release = resolve));
    const commits = new GroupCommit<number, number>(
      async (group: Array<GroupMember<number, number>>) => {
        groups.push(group.map((member) => member.item));
        await gate;
        group.forEach((member) => member.resolve(member.item * 2));
      },
      { maxWeight: 10, weight: (item) => item },
    );
    return {
      commits,
      groups,
      release: () => {
        release();
        gate = new Promise<void>((resolve) => (release = resolve));
      },
    };
  }

  it('serves a lone caller at once and lets callers of the same turn share one group', async () => {
    const { commits, groups, release } = recording();
    const results = [commits.submit(1), commits.submit(2)];
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await Promise.all(results)).toEqual([2, 4]);
    expect(groups).toEqual([[1, 2]]);
  });

  it('gathers callers that arrive during a write into the next group, within the weight limit', async () => {
    const { commits, groups, release } = recording();
    const first = commits.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [commits.submit(4), commits.submit(5), commits.submit(3), commits.submit(20)];
    release();
    await first;
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      release();
    }
    expect(await Promise.all(later)).toEqual([8, 10, 6, 40]);
    expect(groups).toEqual([[1], [4, 5], [3], [20]]); // a heavier item than the limit forms a group of its own
  });

  it('rejects the members a failed commit left unsettled, and keeps serving', async () => {
    let fail = true;
    const commits = new GroupCommit<string, string>(
      async (group) => {
        group[0].resolve('first settled');
        if (fail) throw new Error('database away');
        group.forEach((member) => member.resolve(member.item));
      },
      { maxWeight: 100 },
    );
    const results = await Promise.allSettled([commits.submit('a'), commits.submit('b')]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 'first settled' },
      { status: 'rejected', reason: new Error('database away') },
    ]);
    fail = false;
    expect(await commits.submit('c')).toBe('first settled');
  });

  it('drains: resolves once everything submitted so far is written', async () => {
    const written: number[] = [];
    const commits = new GroupCommit<number>(
      async (group) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        group.forEach((member) => {
          written.push(member.item);
          member.resolve();
        });
      },
      { maxWeight: 1 },
    );
    void commits.submit(1);
    void commits.submit(2);
    expect(commits.size).toBe(2);
    await commits.drain();
    expect(written).toEqual([1, 2]);
  });
});
