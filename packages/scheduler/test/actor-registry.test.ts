/**
 * The head's actor records: names (claimed, released, freed when their actor dies), the one
 * restart count against maxRestarts, reports from nodes an actor does not live on, and the
 * bounded history of dead actors.
 */
import { describe, expect, it } from 'vitest';
import { encode, type ActorLocation, type ActorSpec } from '@weft/protocol';
import { ActorRegistry, MAX_DEAD_ACTORS } from '../src/actor-registry.ts';

function spec(actorId: string, maxRestarts: number, name?: string): ActorSpec {
  return {
    actorId, jobId: 'job-1', cls: { module: 'counter.ts', name: 'Counter' }, args: encode([]), argRefs: [],
    options: { maxRestarts, maxTaskRetries: 0, maxConcurrency: 1, resources: {}, placement: { CPU: 1 }, ...(name !== undefined ? { name } : {}) },
  };
}

const at = (actorId: string, nodeId: string, state: ActorLocation['state'], name?: string): ActorLocation =>
  ({ actorId, className: 'Counter', nodeId, state, ...(name !== undefined ? { name } : {}) });

describe('actor names', () => {
  it('gives a name to one live actor at a time; only its holder releases it', () => {
    const actors = new ActorRegistry();
    expect(actors.claim('svc', 'a-1')).toBe(true);
    expect(actors.claim('svc', 'a-1')).toBe(true); // claiming again is harmless
    expect(actors.claim('svc', 'a-2')).toBe(false);
    actors.release('svc', 'a-2');
    expect(actors.claim('svc', 'a-2')).toBe(false);
    actors.release('svc', 'a-1');
    expect(actors.claim('svc', 'a-2')).toBe(true);
  });

  it('frees the name of an actor that dies, and no longer finds the dead actor by it (by id it does)', () => {
    const actors = new ActorRegistry();
    actors.claim('svc', 'a-1');
    actors.placed(spec('a-1', 0, 'svc'), 'node-a', 'node-a');
    expect(actors.find({ name: 'svc' })).toMatchObject({ actorId: 'a-1', state: 'pending' });
    actors.died('a-1');
    expect(actors.find({ name: 'svc' })).toBeNull();
    expect(actors.find({ actorId: 'a-1' })).toMatchObject({ state: 'dead' });
    expect(actors.claim('svc', 'a-2')).toBe(true);
  });

  it('frees the name when the actor\'s node reports it dead', () => {
    const actors = new ActorRegistry();
    actors.claim('svc', 'a-1');
    actors.placed(spec('a-1', 3, 'svc'), 'node-a', 'node-a');
    expect(actors.reported('node-a', at('a-1', 'node-a', 'dead', 'svc'))).toBe(true);
    expect(actors.claim('svc', 'a-2')).toBe(true);
    expect(actors.canRestart('a-1')).toBe(false);
  });
});

describe('restarts', () => {
  it('counts every restart, for any cause, against one maxRestarts', () => {
    const actors = new ActorRegistry();
    actors.placed(spec('a-1', 2), 'node-a', 'node-a');
    expect(actors.canRestart('a-1')).toBe(true);
    expect(actors.restarted('a-1', 'node-a')).toBe(1); // its worker died
    expect(actors.get('a-1')?.location).toMatchObject({ nodeId: 'node-a', state: 'restarting' });
    expect(actors.canRestart('a-1')).toBe(true);
    expect(actors.restarted('a-1', 'node-b')).toBe(2); // its node died
    expect(actors.get('a-1')?.location).toMatchObject({ nodeId: 'node-b', state: 'restarting' });
    expect(actors.canRestart('a-1')).toBe(false);
  });

  it('never restarts an actor with maxRestarts 0, always one with -1', () => {
    const actors = new ActorRegistry();
    actors.placed(spec('a-0', 0), 'node-a', 'node-a');
    actors.placed(spec('a-inf', -1), 'node-a', 'node-a');
    expect(actors.canRestart('a-0')).toBe(false);
    for (let i = 1; i <= 50; i++) expect(actors.restarted('a-inf', 'node-a')).toBe(i);
    expect(actors.canRestart('a-inf')).toBe(true);
  });

  it('never restarts a dead actor, an unknown one, or one whose spec it never had', () => {
    const actors = new ActorRegistry();
    actors.placed(spec('a-1', -1), 'node-a', 'node-a');
    actors.died('a-1');
    expect(actors.canRestart('a-1')).toBe(false);
    expect(actors.canRestart('a-unknown')).toBe(false);
    // A node reporting to a restarted head without the spec.
    actors.reported('node-a', at('a-2', 'node-a', 'alive'));
    expect(actors.canRestart('a-2')).toBe(false);
  });

  it('takes the restart count a node reports to a restarted head, so restarts stay bounded across head restarts', () => {
    const actors = new ActorRegistry();
    expect(actors.reported('node-a', at('a-1', 'node-a', 'alive', 'svc'), { spec: spec('a-1', 3, 'svc'), owner: 'node-o', restarts: 2 })).toBe(true);
    expect(actors.get('a-1')).toMatchObject({ restarts: 2, owner: 'node-o' });
    expect(actors.find({ name: 'svc' })).toMatchObject({ actorId: 'a-1' });
    expect(actors.claim('svc', 'a-other')).toBe(false);
    expect(actors.restarted('a-1', 'node-b')).toBe(3);
    expect(actors.canRestart('a-1')).toBe(false);
  });
});

describe('reports from nodes', () => {
  it('ignores a report from a node the actor no longer lives on, a report about another node, and any report of a dead actor', () => {
    const actors = new ActorRegistry();
    actors.placed(spec('a-1', 1), 'node-a', 'node-a');
    actors.restarted('a-1', 'node-b'); // node-a died; it restarts on node-b
    expect(actors.reported('node-a', at('a-1', 'node-a', 'alive'))).toBe(false);
    expect(actors.reported('node-b', at('a-1', 'node-a', 'alive'))).toBe(false);
    expect(actors.get('a-1')?.location).toMatchObject({ nodeId: 'node-b', state: 'restarting' });
    expect(actors.reported('node-b', at('a-1', 'node-b', 'alive'))).toBe(true);
    expect(actors.liveOn('node-b').map((a) => a.actorId)).toEqual(['a-1']);
    actors.died('a-1');
    expect(actors.reported('node-b', at('a-1', 'node-b', 'alive'))).toBe(false);
    expect(actors.get('a-1')?.location.state).toBe('dead');
    expect(actors.liveOn('node-b')).toEqual([]);
  });

  it('does not give a name a live actor holds to an actor a node reports after the head restarted', () => {
    const actors = new ActorRegistry();
    actors.claim('svc', 'a-new');
    actors.reported('node-a', at('a-old', 'node-a', 'alive', 'svc'));
    expect(actors.find({ name: 'svc' })).toBeNull(); // a-new holds it, though not placed yet
    expect(actors.claim('svc', 'a-old')).toBe(false);
  });
});

describe('the history of dead actors', () => {
  it(`remembers the last ${MAX_DEAD_ACTORS} dead actors and forgets older ones, never a live one`, () => {
    const actors = new ActorRegistry();
    actors.placed(spec('live', 0), 'node-a', 'node-a');
    for (let i = 0; i < MAX_DEAD_ACTORS + 3; i++) {
      actors.placed(spec(`dead-${i}`, 0), 'node-a', 'node-a');
      actors.died(`dead-${i}`);
    }
    const ids = actors.all().map((a) => a.actorId);
    expect(ids).toHaveLength(MAX_DEAD_ACTORS + 1);
    expect(ids).toContain('live');
    expect(ids).not.toContain('dead-2');
    expect(ids).toContain('dead-3');
    expect(actors.find({ actorId: 'dead-2' })).toBeNull();
    expect(MAX_DEAD_ACTORS).toBe(1_000);
  });

  it('drops the spec of a dead actor (no restart needs it), keeping its record', () => {
    const actors = new ActorRegistry();
    actors.placed(spec('a-1', -1), 'node-a', 'node-a');
    actors.died('a-1');
    expect(actors.get('a-1')).toMatchObject({ spec: undefined, location: { state: 'dead' } });
  });
});
