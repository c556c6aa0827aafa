import usearch from 'usearch';
const D=512,N=20000;
let s=1;const r=()=>((s=(Math.imul(s,1664525)+1013904223)>>>0)/2**32)*2-1;
const data=new Float32Array(N*D);for(let i=0;i<data.length;i++)data[i]=r();
const idx=new usearch.Index({dimensions:D,metric:'ip',connectivity:16,expansion_add:128,expansion_search:64});
const keys=new BigUint64Array(N);for(let i=0;i<N;i++)keys[i]=BigInt(i);
let t0=performance.now();idx.add(keys,data,0);console.log('build',performance.now()-t0);
for (const th of [0,1,0,1]) {const t=[];for(let q=0;q<2000;q++){const v=data.subarray((q%N)*D,(q%N+1)*D);const t0=performance.now();idx.search(v,1,th);t.push(performance.now()-t0);}t.sort((a,b)=>a-b);console.log('threads',th,'p50',t[1000].toFixed(3),'p99',t[1980].toFixed(3));}
