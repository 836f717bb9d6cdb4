/**
 * @weft/dashboard: the head's dashboard, a single-page app (preact: React's model in 4 KB, so
 * views are components instead of hand-patched DOM) that the head serves at `/`. It signs in
 * with the cluster token once, then follows the head's live feed (`/api/live`).
 */
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { App } from './app.tsx';

render(<App />, document.getElementById('app') as HTMLElement);
