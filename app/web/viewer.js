// skyspace viewer: the mosaic of scenes, flight paths and footprints (vector tiles), a time
// slider that moves the drone and its footprint, the synthetic frame view, and map clicks
// answered with the frame pixel that sees the point.
import * as maplibregl from '/viewer/maplibre/maplibre-gl.mjs';

const EMPTY = { type: 'FeatureCollection', features: [] };
const base = window.location.origin;
// what the page did, for people debugging it and for the browser tests
const state = window.skyspace = {
  idle: false, errors: [], tiles: { mosaic: 0, flights: 0, footprints: 0 },
  flight: null, scene: null, t: 0, footprint: null, footprintVersion: 0, visible: [],
};

const $ = (id) => document.getElementById(id);

async function getJSON(path) {
  const reply = await fetch(base + path);
  const body = await reply.json();
  if (!reply.ok) throw new Error(`${path}: ${body.detail || reply.status}`);
  return body;
}

function fail(error) {
  state.errors.push(String(error && error.message || error));
}

const map = new maplibregl.Map({
  container: 'map',
  center: [8.54, 47.37],
  zoom: 15,
  style: {
    version: 8,
    sources: {
      mosaic: { type: 'raster', url: `${base}/mosaic/WebMercatorQuad/tilejson.json?tile_format=png`,
                tileSize: 256 },
      flights: { type: 'vector', tiles: [`${base}/tiles/flights/{z}/{x}/{y}.mvt`], maxzoom: 18 },
      footprints: { type: 'vector', tiles: [`${base}/tiles/footprints/{z}/{x}/{y}.mvt`],
                    minzoom: 12, maxzoom: 18 },
      landmarks: { type: 'vector', tiles: [`${base}/tiles/features/{z}/{x}/{y}.mvt`],
                   minzoom: 12, maxzoom: 18 },
      current: { type: 'geojson', data: EMPTY },
      drone: { type: 'geojson', data: EMPTY },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#dde3e8' } },
      { id: 'mosaic', type: 'raster', source: 'mosaic' },
      { id: 'footprints', type: 'line', source: 'footprints', 'source-layer': 'footprints',
        filter: ['==', ['get', 'flight_id'], -1],
        paint: { 'line-color': '#ffd34d', 'line-opacity': 0.12, 'line-width': 0.6 } },
      { id: 'landmarks', type: 'line', source: 'landmarks', 'source-layer': 'features',
        paint: { 'line-color': '#ffffff', 'line-opacity': 0.35, 'line-width': 0.8 } },
      // the landmarks in view at the slider's instant (ids from /flights/{id}/visible)
      { id: 'landmarks-visible', type: 'fill', source: 'landmarks', 'source-layer': 'features',
        filter: ['in', ['id'], ['literal', []]],
        paint: { 'fill-color': '#30d158', 'fill-opacity': 0.55,
                 'fill-outline-color': '#0b6b2a' } },
      { id: 'flights', type: 'line', source: 'flights', 'source-layer': 'flights',
        paint: { 'line-color': ['case', ['==', ['id'], ['literal', -1]], '#ff3b30', '#1f6feb'],
                 'line-width': 2.5 } },
      { id: 'current-fill', type: 'fill', source: 'current',
        paint: { 'fill-color': '#ff9f0a', 'fill-opacity': 0.25 } },
      { id: 'current-line', type: 'line', source: 'current',
        paint: { 'line-color': '#ff9f0a', 'line-width': 2 } },
      { id: 'drone', type: 'circle', source: 'drone',
        paint: { 'circle-radius': 7, 'circle-color': '#ff3b30',
                 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
    ],
  },
});
state.map = map;
map.addControl(new maplibregl.NavigationControl(), 'top-left');
map.addControl(new maplibregl.ScaleControl(), 'bottom-left');

map.on('error', (event) => {
  // a tile where no scene has data is a 404 by TiTiler's convention: not an error here
  const status = event.error && event.error.status;
  if (status === 404 || status === 204) return;
  fail(event.error);
});
map.on('data', (event) => {
  if (event.dataType === 'source' && event.tile && event.sourceId in state.tiles) {
    state.tiles[event.sourceId] += 1;
  }
});
map.on('movestart', () => { state.idle = false; });
map.on('idle', () => { state.idle = true; });
window.addEventListener('error', (event) => fail(event.error || event.message));
window.addEventListener('unhandledrejection', (event) => fail(event.reason));

async function loadFlights() {
  const page = await getJSON('/flights?limit=1000');
  const list = $('flights');
  list.innerHTML = '';
  if (!page.features.length) list.innerHTML = '<li class="muted">no flights yet</li>';
  for (const feature of page.features) {
    const item = document.createElement('li');
    const p = feature.properties;
    item.textContent = `${p.name} · ${Math.round(p.duration_s)} s · ${Math.round(p.length_m)} m`;
    item.dataset.id = feature.id;
    item.onclick = () => chooseFlight(feature).catch(fail);
    list.appendChild(item);
  }
}

async function chooseFlight(feature) {
  const p = feature.properties;
  state.flight = p;
  document.querySelectorAll('#flights li').forEach((li) => {
    li.classList.toggle('active', Number(li.dataset.id) === feature.id);
  });
  map.setFilter('footprints', ['==', ['get', 'flight_id'], feature.id]);
  map.setPaintProperty('flights', 'line-color',
    ['case', ['==', ['id'], feature.id], '#ff3b30', '#1f6feb']);
  const [w, s, e, n] = p.bbox;
  map.fitBounds([[w, s], [e, n]], { padding: 40, duration: 0 });
  const cx = (w + e) / 2, cy = (s + n) / 2;
  const d = 1e-5;
  const scenes = await getJSON(`/scenes?bbox=${cx - d},${cy - d},${cx + d},${cy + d}&limit=1`);
  state.scene = scenes.features.length ? scenes.features[0].id : null;
  const slider = $('time');
  slider.max = p.duration_s;
  slider.value = 0;
  slider.disabled = false;
  $('play').disabled = false;
  await showInstant(0);
}

let pending = null;
async function showInstant(t) {
  if (!state.flight) return;
  state.t = t;
  const id = state.flight.id;
  $('clock').textContent = `${Number(t).toFixed(1)} s`;
  const request = Promise.all([
    getJSON(`/flights/${id}/pose?t=${t}`),
    getJSON(`/flights/${id}/footprint?t=${t}`).catch(() => null),
    getJSON(`/flights/${id}/visible?t=${t}`).catch(() => ({ features: [] })),
  ]);
  pending = request;
  const [pose, footprint, visible] = await request;
  if (pending !== request) return; // a later instant was asked for meanwhile
  state.idle = false; // until MapLibre's next 'idle': this instant drawn
  showVisible(visible.features);
  map.getSource('drone').setData({ type: 'Point', coordinates: [pose.lon, pose.lat] });
  map.getSource('current').setData(footprint || EMPTY);
  state.footprint = footprint;
  state.footprintVersion += 1;
  const keep = ['t', 'time', 'lon', 'lat', 'z', 'alt_takeoff', 'gimbal_yaw', 'gimbal_pitch'];
  $('pose').textContent = keep.map((k) => `${k.padEnd(13)} ${format(pose[k])}`).join('\n');
  $('pose').classList.remove('muted');
  if (state.scene !== null) {
    $('frame').src = `${base}/flights/${id}/frame-view?scene=${state.scene}&t=${t}&width=320`;
  }
}

function showVisible(features) {
  state.visible = features.map((f) => f.id);
  map.setFilter('landmarks-visible', ['in', ['id'], ['literal', state.visible]]);
  const counts = {};
  for (const f of features) counts[f.class] = (counts[f.class] || 0) + 1;
  // points of interest first: they are what a question names
  const rank = (f) => (f.class === 'poi' ? 0 : f.class === 'road' ? 2 : 1);
  const named = features.filter((f) => f.name).sort((a, b) => rank(a) - rank(b))
    .map((f) => f.name);
  const summary = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ');
  $('visible').textContent = features.length
    ? `${summary}${named.length ? ` · ${named.slice(0, 5).join(', ')}` : ''}`
    : 'no landmark in view';
  $('visible').classList.remove('muted');
}

function format(value) {
  return typeof value === 'number' ? Number(value.toFixed(6)).toString() : String(value);
}

$('time').addEventListener('input', (event) => showInstant(event.target.value).catch(fail));

let timer = null;
$('play').addEventListener('click', () => {
  if (timer) { clearInterval(timer); timer = null; $('play').textContent = '▶'; return; }
  $('play').textContent = '❚❚';
  timer = setInterval(() => {
    const slider = $('time');
    const next = Math.min(Number(slider.value) + 1, Number(slider.max));
    slider.value = next;
    showInstant(next).catch(fail);
    if (next >= Number(slider.max)) $('play').click();
  }, 250);
});

map.on('click', async (event) => {
  if (!state.flight) return;
  const { lng, lat } = event.lngLat;
  try {
    const seen = await getJSON(
      `/flights/${state.flight.id}/unproject?t=${state.t}&lon=${lng}&lat=${lat}`);
    $('pixel').textContent = seen.in_frame
      ? `pixel (${seen.u.toFixed(1)}, ${seen.v.toFixed(1)}) at t = ${Number(state.t).toFixed(1)} s`
      : 'not in view';
    $('pixel').classList.remove('muted');
  } catch (error) { fail(error); }
});

map.on('load', () => loadFlights().catch(fail));
