/** numu.js: core + identify, offline queue, SPA, autocapture, heatmap clicks, scroll depth. */
import { boot } from './boot';
import { autocapture } from './features/autocapture';
import { ids } from './features/ids';
import { offline } from './features/offline';
import { scroll } from './features/scroll';
import { spa } from './features/spa';

boot([ids, offline, spa, autocapture, scroll]);
