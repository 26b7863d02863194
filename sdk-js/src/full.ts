/** numu.js: core + identify, offline queue, SPA, autocapture, heatmap clicks, scroll depth. */
import { boot } from './boot';
import { autocapture } from './features/autocapture';
import { identity } from './features/identity';
import { offline } from './features/offline';
import { scroll } from './features/scroll';
import { spa } from './features/spa';

boot([identity, offline, spa, autocapture, scroll]);
