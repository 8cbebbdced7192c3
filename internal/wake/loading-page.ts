// The page a browser sees while its container wakes: small, no framework, no external assets,
// follows progress over server-sent events (polling as fallback) and reloads into the real page.

/** Reserved path prefix served by Bellhop on every host whose route can sleep. */
export const WAKE_PATH_PREFIX = '/.bellhop/wake/';
export const WAKE_EVENTS_PATH = '/.bellhop/wake/events';
export const WAKE_STATUS_PATH = '/.bellhop/wake/status';

export interface FailureView {
  code: string;
  message: string;
  exitCode?: number | undefined;
  logs?: string | undefined;
  /** There are log lines, but this client may not see them (wake.show_logs). */
  logsHidden?: boolean | undefined;
}

export interface LoadingPageView {
  /** Display name of the service (route alias). */
  title: string;
  /** Container being woken. */
  container: string;
  message: string;
  failure?: FailureView | undefined;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Said instead of the log lines to a client that may not see them (docs/sleep-and-wake.md).
const LOGS_HIDDEN = 'The container&#39;s log lines are not shown to this address; they are in Bellhop&#39;s own log.';

function failureHtml(f: FailureView | undefined): string {
  if (f === undefined) return '';
  const exit = f.exitCode === undefined ? '' : `<p>Exit code <b>${f.exitCode}</b></p>`;
  const logs = f.logs ? `<pre>${escapeHtml(f.logs)}</pre>` : f.logsHidden === true ? `<p><small>${LOGS_HIDDEN}</small></p>` : '';
  return `<p>${escapeHtml(f.message)}</p>${exit}${logs}<button onclick="location.reload()">Try again</button>`;
}

// Plain ES5 so any browser runs it. `ready` reloads; `failed` shows the reason and stops.
const script = `(function(){
var P=${JSON.stringify(WAKE_PATH_PREFIX)},done=false,msg=document.getElementById('msg'),err=document.getElementById('err'),box=document.getElementById('box');
function esc(s){var d=document.createElement('div');d.textContent=String(s);return d.innerHTML;}
function ready(){if(done)return;done=true;msg.textContent='Ready. Loading\\u2026';setTimeout(function(){location.reload();},100);}
function fail(e){done=true;box.className='failed';msg.textContent='It did not start.';
var h='<p>'+esc(e.message||e.code||'unknown error')+'</p>';if(e.exitCode!==undefined&&e.exitCode!==null)h+='<p>Exit code <b>'+esc(e.exitCode)+'</b></p>';
if(e.logs)h+='<pre>'+esc(e.logs)+'</pre>';else if(e.logsHidden)h+='<p><small>'+${JSON.stringify(LOGS_HIDDEN)}+'</small></p>';h+='<button onclick="location.reload()">Try again</button>';err.innerHTML=h;}
function handle(d){if(done||!d)return;if(d.type==='ready'||d.state==='awake')ready();else if(d.type==='failed'&&d.error)fail(d.error);else if(d.error&&d.state==='asleep')fail(d.error);else if(d.message)msg.textContent=d.message;}
function poll(){if(done)return;var x=new XMLHttpRequest();x.open('GET',P+'status');x.setRequestHeader('Cache-Control','no-store');
x.onload=function(){try{handle(JSON.parse(x.responseText));}catch(e){}if(!done)setTimeout(poll,1000);};x.onerror=function(){if(!done)setTimeout(poll,2000);};x.send();}
if(window.EventSource){var es=new EventSource(P+'events');es.onmessage=function(e){try{handle(JSON.parse(e.data));}catch(x){}if(done)es.close();};
es.onerror=function(){es.close();if(!done)poll();};}else poll();
})();`;

const style = `body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;font:16px/1.5 system-ui,sans-serif;background:#f5f3ef;color:#222}
#box{max-width:36rem;padding:2rem 2.5rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);text-align:center}
h1{font-size:1.3rem;margin:0 0 .5rem}.dots span{display:inline-block;width:.6rem;height:.6rem;margin:0 .2rem;border-radius:50%;background:#c7772e;animation:b 1.2s infinite ease-in-out}
.dots span:nth-child(2){animation-delay:.2s}.dots span:nth-child(3){animation-delay:.4s}@keyframes b{0%,80%,100%{opacity:.2}40%{opacity:1}}
.failed .dots{display:none}#err{text-align:left}pre{background:#222;color:#eee;padding:.8rem;border-radius:6px;overflow:auto;max-height:16rem;font-size:.8rem;white-space:pre-wrap}
button{font:inherit;padding:.4rem 1rem;border-radius:6px;border:1px solid #c7772e;background:#fff;cursor:pointer}
@media (prefers-color-scheme:dark){body{background:#1b1b1d;color:#eee}#box{background:#27272a}button{background:#27272a;color:#eee}}`;

/** The HTML of the loading page (or the failure page when `failure` is set). */
export function renderLoadingPage(view: LoadingPageView): string {
  const failed = view.failure !== undefined;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(view.title)} is starting</title>
${failed ? '' : '<noscript><meta http-equiv="refresh" content="3"></noscript>'}<style>${style}</style></head>
<body><main id="box"${failed ? ' class="failed"' : ''}><h1>${escapeHtml(view.title)}</h1>
<div class="dots" aria-hidden="true"><span></span><span></span><span></span></div>
<p id="msg" role="status" aria-live="polite">${escapeHtml(failed ? 'It did not start.' : view.message)}</p>
<div id="err">${failureHtml(view.failure)}</div>
<p><small>${escapeHtml(view.container)} &middot; woken by Bellhop</small></p></main>
${failed ? '' : `<script>${script}</script>`}</body></html>`;
}
