// An agency system's use of the national SDK (VNPT SDKVXP 2.0.1) and the national edXML library
// (EdXML102 0.0.3), driven by lienthong's tests and demo: each command does what an integration does
// and prints one line "RESULT <json>" after whatever the SDK itself prints.
//
//   javac -cp "<vxp-sdk>/lib/*" -d out VxpDriver.java
//   java -cp '<vxp-sdk>/lib/*:out' VxpDriver <command> <endpoint> <systemid> <secret> [args…]

import com.google.common.collect.Lists;
import com.google.gson.Gson;
import com.vnpt.xml.base.Content;
import com.vnpt.xml.base.header.Bussiness;
import com.vnpt.xml.base.header.Header;
import com.vnpt.xml.base.header.KeyInfo;
import com.vnpt.xml.base.header.Organization;
import com.vnpt.xml.base.header.ResponseFor;
import com.vnpt.xml.base.header.SignReference;
import com.vnpt.xml.base.header.Signature;
import com.vnpt.xml.base.header.SignedInfo;
import com.vnpt.xml.base.header.SignerInfo;
import com.vnpt.xml.base.header.StaffInfo;
import com.vnpt.xml.base.header.TraceHeader;
import com.vnpt.xml.base.header.TraceHeaderList;
import com.vnpt.xml.base.header.X509Data;
import com.vnpt.xml.ed.Ed;
import com.vnpt.xml.ed.builder.EdXmlBuilder;
import com.vnpt.xml.ed.header.Code;
import com.vnpt.xml.ed.header.DocumentType;
import com.vnpt.xml.ed.header.MessageHeader;
import com.vnpt.xml.ed.header.OtherInfo;
import com.vnpt.xml.ed.header.PromulgationInfo;
import com.vnpt.xml.status.Status;
import com.vnpt.xml.status.builder.StatusXmlBuilder;
import com.vnpt.xml.status.header.MessageStatus;
import com.vpcp.services.AgencyServiceImp;
import com.vpcp.services.KnobstickServiceImp;
import com.vpcp.services.VnptProperties;
import com.vpcp.services.model.Agency;
import com.vpcp.services.model.CountReceiveEdoc;
import com.vpcp.services.model.GetAgenciesResult;
import com.vpcp.services.model.GetChangeStatusResult;
import com.vpcp.services.model.GetEdocResult;
import com.vpcp.services.model.GetReceivedEdocResult;
import com.vpcp.services.model.GetSendEdocResult;
import com.vpcp.services.model.Knobstick;
import com.vpcp.services.model.SendEdocResult;
import com.vpcp.services.model.StatusResult;
import java.io.File;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class VxpDriver {
    static final Gson GSON = new Gson();

    public static void main(String[] args) throws Exception {
        String command = args[0];
        if (command.equals("build-edoc")) {
            // build-edoc <dir> <from> <to,to…> <documentId> <subject> <priority>
            result(buildEdoc(args[1], args[2], args[3].split(","), args[4], args[5], Integer.parseInt(args[6])));
            return;
        }
        if (command.equals("build-status")) {
            // build-status <dir> <from> <documentSender> <documentId> <code>
            result(buildStatus(args[1], args[2], args[3], args[4], args[5]));
            return;
        }
        String endpoint = args[1], systemId = args[2], secret = args[3];
        Map<String, Object> out = new LinkedHashMap<>();
        switch (command) {
            case "send": { // send <from> <messagetype> <file>
                String json = "{\"from\":\"" + args[4] + "\",\"servicetype\":\"eDoc\",\"messagetype\":\"" + args[5] + "\"}";
                SendEdocResult r = knobstick(endpoint, systemId, secret).sendEdoc(json, args[6]);
                basic(out, r == null ? null : r.getStatus(), r == null ? null : r.getErrorCode(), r == null ? null : r.getErrorDesc());
                if (r != null) out.put("docId", r.getDocID());
                break;
            }
            case "list": { // list <messagetype>
                String json = "{\"servicetype\":\"eDoc\",\"messagetype\":\"" + args[4] + "\"}";
                GetReceivedEdocResult r = knobstick(endpoint, systemId, secret).getReceivedEdocList(json);
                basic(out, r.getStatus(), r.getErrorCode(), r.getErrorDesc());
                List<Map<String, String>> items = new ArrayList<>();
                if (r.getKnobsticks() != null) {
                    for (Knobstick k : r.getKnobsticks()) {
                        Map<String, String> item = new LinkedHashMap<>();
                        item.put("id", k.getId());
                        item.put("from", k.getFrom());
                        item.put("to", k.getTo());
                        item.put("messageType", k.getMessageType());
                        item.put("serviceType", k.getServiceType());
                        item.put("status", k.getStatus());
                        item.put("statusDesc", k.getStatusDesc());
                        item.put("createdTime", k.getCreatedTime());
                        items.add(item);
                    }
                }
                out.put("items", items);
                break;
            }
            case "get": { // get <docId> <folder>
                String json = "{\"filePath\":\"" + args[5] + "\",\"docId\":\"" + args[4] + "\"}";
                GetEdocResult r = knobstick(endpoint, systemId, secret).getEdoc(json);
                basic(out, r.getStatus(), r.getErrorCode(), r.getErrorDesc());
                out.put("filePath", r.getFilePath());
                break;
            }
            case "download": { // download <docId> <folder>
                String json = "{\"filePath\":\"" + args[5] + "\",\"docId\":\"" + args[4] + "\"}";
                GetEdocResult r = knobstick(endpoint, systemId, secret).downloadEdoc(json);
                basic(out, r.getStatus(), r.getErrorCode(), r.getErrorDesc());
                out.put("filePath", r.getFilePath());
                break;
            }
            case "update": { // update <docId> <done|fail|processing>  (ServiceTest's own header)
                String json = "{\"status\":\"" + args[5] + "\",\"docid\":\"" + args[4] + "\"}";
                GetChangeStatusResult r = knobstick(endpoint, systemId, secret).updateStatus(json);
                basic(out, r.getStatus(), r.getErrorCode(), r.getErrorDesc());
                break;
            }
            case "sent": { // sent [docId]
                String json = args.length > 4
                    ? "{\"servicetype\":\"eDoc\",\"messagetype\":\"edoc\",\"docId\":\"" + args[4] + "\"}"
                    : "{\"servicetype\":\"eDoc\",\"messagetype\":\"edoc\"}";
                GetSendEdocResult r = knobstick(endpoint, systemId, secret).getSentEdocList(json);
                basic(out, r.getStatus(), r.getErrorCode(), r.getErrorDesc());
                List<Map<String, String>> items = new ArrayList<>();
                if (r.getStatusResult() != null) {
                    for (StatusResult s : r.getStatusResult()) {
                        Map<String, String> item = new LinkedHashMap<>();
                        item.put("senderDocId", s.getSenderDocId());
                        item.put("receiverDocId", s.getReceiverDocId());
                        item.put("fromCode", s.getFromCode());
                        item.put("toCode", s.getToCode());
                        item.put("sendStatus", s.getSendStatus());
                        item.put("receiveStatus", s.getReceiveStatus());
                        item.put("receiveStatusDesc", s.getReceiveStatusDesc());
                        item.put("title", s.getTitle());
                        item.put("sentTime", s.getSentTime());
                        items.add(item);
                    }
                }
                out.put("items", items);
                break;
            }
            case "count": { // count <edoc|status>
                KnobstickServiceImp service = knobstick(endpoint, systemId, secret);
                CountReceiveEdoc r = args[4].equals("status") ? service.countReceiveStatus("{}") : service.countReceiveEdoc("{}");
                basic(out, r.getStatus(), r.getErrorCode(), r.getErrorDesc());
                out.put("count", r.getCount());
                break;
            }
            case "agencies": {
                GetAgenciesResult r = new AgencyServiceImp(properties(endpoint, systemId, secret)).getAgenciesList("{}");
                basic(out, r.getStatus(), r.getErrorCode(), r.getErrorDesc());
                List<Map<String, String>> items = new ArrayList<>();
                if (r.getAgencies() != null) {
                    for (Agency a : r.getAgencies()) {
                        Map<String, String> item = new LinkedHashMap<>();
                        item.put("code", a.getCode());
                        item.put("name", a.getName());
                        item.put("pid", a.getPid());
                        item.put("oldCode", a.getOldCode());
                        items.add(item);
                    }
                }
                out.put("items", items);
                break;
            }
            case "replay": { // one service object, the same call twice: the same signed header
                KnobstickServiceImp service = knobstick(endpoint, systemId, secret);
                String json = "{\"servicetype\":\"eDoc\",\"messagetype\":\"edoc\"}";
                GetReceivedEdocResult first = service.getReceivedEdocList(json);
                GetReceivedEdocResult second = service.getReceivedEdocList(json);
                out.put("first", first.getStatus());
                basic(out, second.getStatus(), second.getErrorCode(), second.getErrorDesc());
                break;
            }
            default:
                throw new IllegalArgumentException("unknown command " + command);
        }
        result(out);
    }

    static VnptProperties properties(String endpoint, String systemId, String secret) {
        return new VnptProperties(endpoint, systemId, secret, System.getProperty("java.io.tmpdir") + "/vxp", 10, 3);
    }

    /** A new service object per call: the SDK stamps its time once, when it is made. */
    static KnobstickServiceImp knobstick(String endpoint, String systemId, String secret) {
        return new KnobstickServiceImp(properties(endpoint, systemId, secret));
    }

    static void basic(Map<String, Object> out, String status, String code, String desc) {
        out.put("status", status);
        out.put("errorCode", code);
        out.put("errorDesc", desc);
    }

    static void result(Object value) {
        System.out.println("RESULT " + GSON.toJson(value));
    }

    static Organization org(String organId, String name) {
        return new Organization(organId, name, name, "Số 1 Hoàng Hoa Thám, Ba Đình, Hà Nội",
            "vanthu@gov.vn", "0241234567", "0241234568", "gov.vn");
    }

    /** A new document as the national example builds it, with its placeholder signature. */
    static Map<String, String> buildEdoc(String dir, String from, String[] to, String documentId,
                                         String subject, int priority) throws Exception {
        Ed ed = new Ed();
        String[] parts = documentId.split(",");
        String[] number = parts[parts.length - 1].split("/", 2);
        Code code = new Code(number[0], number.length > 1 ? number[1] : "CV");
        List<Organization> toes = new ArrayList<>();
        for (String t : to) toes.add(org(t, "Cơ quan " + t));
        PromulgationInfo promulgation = new PromulgationInfo("Hà Nội", new Date());
        DocumentType docType = new DocumentType(1, "Công văn");
        SignerInfo signerInfo = new SignerInfo("TL. BỘ TRƯỞNG", "Cục trưởng", "Nguyễn Văn A");
        MessageHeader header = new MessageHeader(org(from, "Cơ quan " + from), toes, code, promulgation,
            docType, subject, subject, null, signerInfo, new Date(), null, null);
        header.addToPlace("Như trên");
        header.setSteeringType(1);
        OtherInfo otherInfo = new OtherInfo();
        otherInfo.setPriority(priority);
        otherInfo.setPromulgationAmount(1);
        otherInfo.setPageAmount(1);
        otherInfo.setSphereOfPromulgation("Liên thông văn bản quốc gia");
        otherInfo.setTyperNotation("VT");
        otherInfo.setAppendixes(Lists.newArrayList("Phụ lục"));
        header.setOtherInfo(otherInfo);
        header.setDocumentId(documentId);
        TraceHeaderList traces = new TraceHeaderList();
        TraceHeader trace = new TraceHeader();
        trace.setOrganId(from);
        trace.setTimestamp(new Date());
        traces.addTraceHeader(trace);
        Bussiness bussiness = new Bussiness();
        bussiness.setBussinessDocReason("Văn bản điện tử mới");
        bussiness.setBussinessDocType("0");
        bussiness.setPaper("0");
        StaffInfo staff = new StaffInfo();
        staff.setDepartment("Văn thư");
        staff.setStaff("Nguyễn Thị B");
        staff.setEmail("vanthu@gov.vn");
        staff.setMobile("84912000001");
        bussiness.addStaffInfo(staff);
        traces.setBussiness(bussiness);
        ed.setHeader(new Header(header, traces, placeholder()));
        File attachment = new File(dir, "cong-van.txt");
        Files.write(attachment.toPath(), "Nội dung công văn".getBytes("UTF-8"));
        ed.addAttachment(new com.vnpt.xml.base.attachment.Attachment("1", "cong-van.txt", "Công văn", attachment));
        Content content = EdXmlBuilder.build(ed, dir);
        Map<String, String> out = new LinkedHashMap<>();
        out.put("path", content.getContent().getPath());
        return out;
    }

    /** A status as the national example builds it (no signature element at all). */
    static Map<String, String> buildStatus(String dir, String from, String documentSender,
                                           String documentId, String code) throws Exception {
        Header header = new Header();
        MessageStatus status = new MessageStatus();
        String[] parts = documentId.split(",");
        status.setResponseFor(new ResponseFor(documentSender, parts[parts.length - 1], new Date(), documentId));
        status.setFrom(org(from, "Cơ quan " + from));
        status.setStatusCode(code);
        status.setDescription("Văn thư: trạng thái " + code);
        status.setTimestamp(new Date());
        StaffInfo staff = new StaffInfo();
        staff.setDepartment("Văn thư");
        staff.setStaff("Nguyễn Thị C");
        staff.setEmail("vanthu@gov.vn");
        staff.setMobile("84912000002");
        status.setStaffInfo(staff);
        header.setMessageHeader(status);
        Content content = StatusXmlBuilder.build(new Status(header), dir);
        Map<String, String> out = new LinkedHashMap<>();
        out.put("path", content.getContent().getPath());
        return out;
    }

    /** The national example's placeholder: rsa-sha1, not in the XML-DSig namespace. */
    static Signature placeholder() {
        SignReference reference = new SignReference("", "http://www.w3.org/2000/09/xmldsig#sha1", "FwgIqsSYJshUS2+wlOM61L+q7Aw=");
        reference.addToTransform("http://www.w3.org/2000/09/xmldsig#enveloped-signature");
        List<SignReference> references = new ArrayList<>();
        references.add(reference);
        SignedInfo signedInfo = new SignedInfo("http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1", references);
        return new Signature(signedInfo, "AAAA", new KeyInfo(new X509Data("CN=placeholder", "MIIB")));
    }
}
