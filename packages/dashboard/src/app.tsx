/** The page: sign-in, then the views over the live store, chosen by the address's hash (`#/graph`). */
import type { LiveJob, TaskEvent } from '@weft/protocol';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { isSignedIn, signIn, signOut, takeTokenFromAddress } from './api.ts';
import { LiveStore } from './store.ts';
import { TaskGraph } from './views/graph.tsx';
import { Actors, Jobs, Objects } from './views/lists.tsx';
import { Overview } from './views/overview.tsx';
import { SignIn } from './views/sign-in.tsx';
import { TaskStream } from './views/stream.tsx';
import { TaskDetails } from './views/task-details.tsx';

const VIEWS = { overview: 'Cluster', jobs: 'Jobs', graph: 'Task graph', stream: 'Task stream', actors: 'Actors', objects: 'Objects' } as const;
type View = keyof typeof VIEWS;
/** Every job's tasks, in the job selector. */
const ALL_JOBS = '';

const viewOfHash = (): View => {
  const name = location.hash.replace(/^#\/?/, '');
  return name in VIEWS ? name as View : 'overview';
};

type Phase = { name: 'checking' } | { name: 'signed-out'; error?: string } | { name: 'signed-in' };

export function App() {
  const [phase, setPhase] = useState<Phase>({ name: 'checking' });
  useEffect(() => {
    const token = takeTokenFromAddress();
    const start = token === undefined ? isSignedIn().then((ok) => (ok ? undefined : ''))
      : signIn(token);
    start.then((refusal) => setPhase(refusal === undefined ? { name: 'signed-in' } : { name: 'signed-out', ...(refusal ? { error: refusal } : {}) }),
      (error: unknown) => setPhase({ name: 'signed-out', error: `could not reach the head: ${String(error)}` }));
  }, []);
  if (phase.name === 'checking') return <p class="empty">…</p>;
  if (phase.name === 'signed-out') return <SignIn initialError={phase.error} onSignedIn={() => setPhase({ name: 'signed-in' })} />;
  return <Cluster onSignedOut={(error) => setPhase({ name: 'signed-out', ...(error ? { error } : {}) })} />;
}

function Cluster({ onSignedOut }: { onSignedOut: (error?: string) => void }) {
  const store = useMemo(() => new LiveStore(() => onSignedOut('your session ended: sign in again')), []);
  const [, setVersion] = useState(0);
  const [view, setView] = useState<View>(viewOfHash());
  const [jobId, setJobId] = useState<string | undefined>(undefined);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  useEffect(() => {
    const unsubscribe = store.subscribe(() => setVersion(store.version));
    store.connect();
    const onHash = (): void => setView(viewOfHash());
    addEventListener('hashchange', onHash);
    return () => { unsubscribe(); store.close(); removeEventListener('hashchange', onHash); };
  }, []);
  const tasks = [...store.lists.tasks.values()];
  const jobs = [...store.lists.jobs.values()];
  const job = jobId ?? defaultJob(jobs, tasks);
  const jobTasks = job === ALL_JOBS ? tasks : tasks.filter((task) => task.jobId === job);
  const selectedTask = selected === undefined ? undefined : store.lists.tasks.get(selected);
  const select = (id: string): void => setSelected(id);
  return (
    <div class="app">
      <header>
        <h1>weft</h1>
        <nav>{(Object.keys(VIEWS) as View[]).map((name) => <a href={`#/${name}`} id={`nav-${name}`} class={name === view ? 'active' : ''}>{VIEWS[name]}</a>)}</nav>
        <span class={`live ${store.connected ? 'on' : 'off'}`} id="live-state">{store.connected ? 'live' : 'reconnecting…'}</span>
        <button class="sign-out" onClick={() => void signOut().then(() => { store.close(); onSignedOut(); })}>Sign out</button>
      </header>
      <main>
        {(view === 'graph' || view === 'stream') && (
          <label class="job-select">job{' '}
            <select id="job-select" value={job} onChange={(event) => setJobId((event.target as HTMLSelectElement).value)}>
              <option value={ALL_JOBS}>all jobs</option>
              {jobs.map((j) => <option value={j.jobId}>{j.jobId} ({j.state})</option>)}
            </select>
          </label>
        )}
        {view === 'overview' && <Overview store={store} />}
        {view === 'jobs' && <Jobs jobs={jobs} tasks={tasks} maps={[...store.lists.maps.values()]} onOpen={(id) => setJobId(id)} />}
        {view === 'graph' && <section id="view-graph"><h2>Task graph</h2><TaskGraph tasks={jobTasks} selected={selected} onSelect={select} /></section>}
        {view === 'stream' && <section id="view-stream"><h2>Task stream</h2><TaskStream tasks={jobTasks} now={Date.now()} onSelect={select} /></section>}
        {view === 'actors' && <Actors actors={[...store.lists.actors.values()]} />}
        {view === 'objects' && <Objects objects={[...store.lists.objects.values()]} tasks={store.lists.tasks} />}
        {selectedTask !== undefined && (view === 'graph' || view === 'stream') && (
          <TaskDetails task={selectedTask} objects={[...store.lists.objects.values()]} onClose={() => setSelected(undefined)} />
        )}
      </main>
    </div>
  );
}

/** The job shown first: the latest started one that has tasks listed, else every job's tasks. */
function defaultJob(jobs: LiveJob[], tasks: TaskEvent[]): string {
  const withTasks = new Set(tasks.map((task) => task.jobId));
  const candidates = jobs.filter((job) => withTasks.has(job.jobId)).sort((a, b) => b.since - a.since);
  return candidates.find((job) => job.state === 'started')?.jobId ?? candidates[0]?.jobId ?? ALL_JOBS;
}
